"""Pure domain rules: no I/O, no database, no framework imports."""
