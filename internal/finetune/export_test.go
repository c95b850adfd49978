package finetune

import "context"

// SetStepHook makes the training.run handler call fn(ctx, step) after
// every optimizer step (ctx is the handler's).
func (s *Service) SetStepHook(fn func(ctx context.Context, step int)) { s.stepHook = fn }
