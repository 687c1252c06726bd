"""``python -m armsbot`` runs the command line."""

from armsbot.cli import main

raise SystemExit(main())
