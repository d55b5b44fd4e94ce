/* Globals, pointers between them and a table of function pointers:
   data relocations resolved in the child's memory. */
#include <stdio.h>
#include <string.h>
static int add(int a, int b) { return a + b; }
static int mul(int a, int b) { return a * b; }
static int sub(int a, int b) { return a - b; }
int (*const ops[])(int, int) = {add, mul, sub};
static const char *const names[] = {"add", "mul", "sub"};
struct node { int value; struct node *next; };
static struct node c = {3, 0}, b = {2, &c}, a = {1, &b};
struct node *head = &a;
static char buffer[64];
int main(void) {
  int sum = 0;
  for (struct node *n = head; n; n = n->next)
    sum += n->value;
  for (int i = 0; i < 3; i++)
    printf("%s(6, 3) = %d\n", names[i], ops[i](6, 3));
  strcpy(buffer, "list sum");
  printf("%s = %d\n", buffer, sum);
  return sum;
}
