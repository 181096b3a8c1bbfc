"""Work on a dask.distributed cluster: ``micview embed|add PROJECT … --dask ADDRESS|local:N``.

Workers read images from storage they share with the client and send back results by batch (vectors,
thumbnails and metadata); only the client writes the project, one transaction per batch. So a lost worker
costs only its batches in flight (dask runs them again elsewhere), and a killed client loses at most the
batches it had not committed — a re-run computes exactly what is missing. See docs/dask.md.
"""

from micview.ml.distributed.cluster import ClusterError, open_client

__all__ = ["ClusterError", "open_client"]
