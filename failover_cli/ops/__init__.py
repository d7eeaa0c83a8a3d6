"""Day-two operations on a deployed stack (status, ...): library code the commands call."""
