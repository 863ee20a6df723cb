"""Pure domain: the case, its vocabulary of facts, dosing. No web, PDF or database imports."""
