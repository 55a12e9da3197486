import sys

from .cli import main

if __name__ == "__main__":  # a forkserver child imports this module again
    sys.exit(main())
