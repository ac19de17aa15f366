"""Uploads files to Azure Blob Storage with Azure's own Python SDK, for sqlmig's upload benchmark.

Usage: upload_python.py CONTAINER_URL BLOCK_SIZE CONCURRENCY FILE...  (the SAS in $BENCH_SAS)
Prints the seconds the uploads took, as JSON.
"""

import json
import os
import sys
import time

from azure.storage.blob import BlobClient


def main() -> None:
    container_url, block_size, concurrency = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    files = sys.argv[4:]
    sas = os.environ["BENCH_SAS"]
    started = time.monotonic()
    total = 0
    for path in files:
        name = "python/" + os.path.basename(path)
        client = BlobClient.from_blob_url(
            f"{container_url}/{name}?{sas}",
            max_block_size=block_size,
            max_single_put_size=block_size,
        )
        with open(path, "rb") as f:
            client.upload_blob(f, overwrite=True, max_concurrency=concurrency, validate_content=True)
        total += os.path.getsize(path)
    print(json.dumps({"seconds": time.monotonic() - started, "bytes": total}))


if __name__ == "__main__":
    main()
