from multistyle.cli import main

main()
