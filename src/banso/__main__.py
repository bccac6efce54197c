from banso.cli import main

main()
