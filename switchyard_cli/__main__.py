"""``python -m switchyard_cli``."""

from switchyard_cli.cli import main

raise SystemExit(main())
