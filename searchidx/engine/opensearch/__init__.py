"""The OpenSearch engine: an index kept on an OpenSearch cluster instead of a folder.

- :mod:`.location`: the ``opensearch://HOST:PORT/NAME`` URL, its credentials, the client.
- :mod:`.mapping`: the index settings and mapping, generated from searchidx's analysis,
  and the terms OpenSearch's analysis cannot make, computed here at index time.
- :mod:`.writing`: bulk writes, and a rebuild into a new index behind an atomic alias swap.

opensearch-py is imported only when a cluster is opened (``pip install
'searchidx[opensearch]'``): a local search never loads it.
"""
