"""Ingestion: sources (files, feeds, pages) -> clean -> dedup -> passages -> quotes -> store."""
