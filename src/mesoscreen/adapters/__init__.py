"""Adapters: storage, FHIR, NDJSON and Spark, implementing the ports of the services."""
