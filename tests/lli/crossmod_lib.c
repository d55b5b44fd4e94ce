/* The second module of crossmod: a function and two globals. */
int counter = 0;
const char *greeting = "cross-module";
int twice(int x) { return 2 * x; }
