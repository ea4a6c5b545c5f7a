from medo1.cli import main

main()
