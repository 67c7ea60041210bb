package actors

import (
	"context"
	"sync"

	"github.com/parley-chat/parley/engine"
)

// knowledgeIndex is the AI agent's index of the published FAQs and
// articles, built again, on first use, after they change.
type knowledgeIndex struct {
	mu    sync.Mutex
	built bool
	gen   uint64 // the FAQs' generation it was built from
	k     *engine.Knowledge
}

// knowledge returns the built-in answerer over the store's knowledge as it
// is now. It runs outside every actor; a rebuild takes tens of
// milliseconds for 1,000 articles, and the answers waiting meanwhile share
// it.
func (s *System) knowledge() engine.Retrieval {
	s.know.mu.Lock()
	defer s.know.mu.Unlock()
	if !s.know.built || s.know.gen != s.conf.FAQGen() {
		faqs, gen := s.conf.FAQsGen()
		s.know.k = engine.NewKnowledge(engine.ArticlesOf(faqs))
		s.know.built, s.know.gen = true, gen
	}
	return engine.Retrieval{Knowledge: s.know.k}
}

// grounded is an answerer that is a model given the articles the built-in
// retrieval finds most relevant to the question (S10: answers come from the
// store's own knowledge).
type grounded struct {
	knowledge engine.Retrieval
	model     engine.Answerer
}

// groundArticles is how many articles a model is given.
const groundArticles = 3

func (g grounded) Answer(ctx context.Context, s engine.AISettings, q engine.Question) (engine.Answer, error) {
	q.Articles = g.knowledge.Knowledge.Relevant(q, groundArticles)
	return g.model.Answer(ctx, s, q)
}
