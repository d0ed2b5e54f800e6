"""Tasks: imports."""
