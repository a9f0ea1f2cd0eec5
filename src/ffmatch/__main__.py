"""``python -m ffmatch``: the same command line as the ``ffmatch`` script."""

from ffmatch.cli.app import main

if __name__ == "__main__":
    main()
