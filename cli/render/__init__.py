"""Rich renderers, one module per resource; the REPL and the commands use the same ones."""
