"""`python -m streams.cli`: the same as the `vroegsignaal` console script."""

from streams.cli.main import main

main()
