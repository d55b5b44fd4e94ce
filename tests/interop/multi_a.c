int counter = 10;
int add_twice(int a, int b) { return 2 * (a + b); }
