"""LLM backends behind one seam; `tokens` counts offline, `openai_compat` talks to OpenAI-compatible servers.

Kept import-free so core modules can use `bot.llm.tokens` without pulling in the openai SDK.
"""
