"""``python -m perfkit`` runs the command line."""

from perfkit.cli import main

raise SystemExit(main())
