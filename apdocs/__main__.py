from apdocs.cli import main

main()
