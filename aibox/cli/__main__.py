"""``python -m aibox.cli``."""

from aibox.cli import main

main()
