from voltgate.cli.main import main

main()
