"""Review tools for the teacher's labels (the teacher itself is Node:
models/teacher/*.mjs)."""
