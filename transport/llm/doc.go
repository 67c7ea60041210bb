// Package llm is the model adapter of the AI agent (S10, C6): it answers a
// shopper's question with a large language model behind an
// OpenAI-compatible Chat Completions API (OpenAI, Azure OpenAI's
// compatible endpoint, Mistral, Groq, OpenRouter, a local Ollama, vLLM or
// llama.cpp server), as the settings' `ai.llm` names it. Client implements
// engine.Answerer.
//
// # One question, one request
//
// Client.Answer sends one POST {base_url}/chat/completions with
// "Authorization: Bearer {api_key}" and a body of the model, temperature 0,
// a cap on the answer's tokens, and the messages: a system prompt that
// holds the store's articles the caller chose (engine.Question.Articles,
// each with its title and body) and tells the model to answer only from
// them, in the shopper's language, briefly and kindly, and to reply
// exactly [HANDOFF] when they do not answer the question or the shopper
// asks for a person; then the latest messages of the conversation as user
// and assistant turns; then the question. It reads the first choice's
// message content as plain text: empty, or containing [HANDOFF], hands the
// conversation off; anything else is the answer, trimmed and clipped to
// engine.MaxTextRunes, with confidence 1 (the model's own judgement; the
// caller's retrieval already chose what it may answer from).
//
// # Errors
//
// An error wrapped by engine.Permanent is one that asking again cannot
// mend: the API refused the key (401, 403) or the request (another 4xx but
// 408 and 429), or there is no `ai.llm` to ask. One wrapped by
// engine.RetryAfter carries the wait the API asked for (429, or 503, with
// Retry-After in seconds or as an HTTP date). Every other error (another
// 5xx, a timeout, a network error, a reply that is not a chat completion)
// may pass if asked again. An API that answers with an error status gives
// a *StatusError; a reply that is not a chat completion wraps ErrMalformed.
// Every error starts with "llm: ".
//
// # What it must never do
//
// It must never put the API key into an error (the package logs nothing),
// never send anything but the question, the conversation's latest messages
// and the articles it was given, and never outlive its context: the
// outbox ends a question by the time the AI agent has to answer, and each
// request is bounded by Client.Timeout besides. It imports the standard
// library and engine only.
package llm
