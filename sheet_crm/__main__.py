"""`python -m sheet_crm` is the `sheet-crm` command."""

from .cli import main

main()
