"""``python -m services.closer_worker``: run one closer worker."""

from services.closer_worker.entrypoints.process import run
from services.settings import Settings

if __name__ == "__main__":
    run(Settings())
