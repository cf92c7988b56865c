"""`python -m recnas` entry point."""

from recnas.cli.main import main

raise SystemExit(main())
