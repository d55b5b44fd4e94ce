const char *greeting(void) { return "greetings from multi_b"; }
