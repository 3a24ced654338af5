"""Pure rules of outbound mail: who is told what, and the headers it carries."""
