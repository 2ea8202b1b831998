"""Every record aibox keeps: files and upload staging, processing status, the job registry,
file locks, chunks, full-text postings, vectors, knowledge graphs and the LLM answer cache.

Each module holds one store over Redis (or FalkorDB); key names come from :mod:`aibox.keys`.
Stores compute nothing themselves: what they keep is computed by :mod:`aibox.pipeline`.
"""
