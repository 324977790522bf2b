"""Event schemas (the Avro value schemas of the Kafka topics) as a released artifact kind.

``bundle`` packages them from a commit, ``compat`` applies Confluent's compatibility modes with the ``avro`` library's
checker, ``registry`` is the environment's schema registry (local file or AWS Glue). The kind's adapter
(``adapters/event_schemas.py``) and the ``schema_compat`` gate (``gates/schema_compat.py``) put them together.
"""
