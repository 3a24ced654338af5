"""``python -m contracts.generate``: regenerate ``contracts/schemas/current``."""

from contracts.schemas_io import main

if __name__ == "__main__":
    main()
