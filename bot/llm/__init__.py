"""Transport to OpenAI-compatible servers only: `transport` (the seam), `openai_compat` (the client), `tokens`
(offline counts), `openai_embed`, `fake` (an in-process scripted server for tests). Drafting lives beside
bot.answer and bot.brief. Imports nothing of answers, briefs, search, questions or the store.

Kept import-free so core modules can use `bot.llm.tokens` without pulling in the openai SDK.
"""
