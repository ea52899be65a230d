package main

import (
	"context"
	"fmt"
)

// ClosingMessage is what chatGoodbye sends before a chat is wrapped up.
const ClosingMessage = "Thanks for chatting. Your session is now closed."

// chatGoodbye replaces WrapupTask so that a chat gets a closing message,
// through SendMessage, before the original wrap-up runs; a voice task goes
// straight to the original: Flex's sixth example.
func chatGoodbye() plugin {
	return plugin{name: "chat-goodbye", init: func(a *app, log logf) error {
		a.wrapupTask.Replace(func(ctx context.Context, t *Task, original func(context.Context, *Task) (Status, error)) (Status, error) {
			if t.Channel != Chat {
				log(ctx, "%s is not a chat: straight to the original WrapupTask", t.SID)
				return original(ctx, t)
			}
			log(ctx, "saying goodbye on %s before the original WrapupTask", t.Conversation)
			// ctx makes SendMessage a nested invocation: its own listeners
			// run, and the trace shows it inside WrapupTask.
			if _, err := a.sendMessage.Call(ctx, &Message{Conversation: t.Conversation, Author: "agent", Body: ClosingMessage}); err != nil {
				return "", fmt.Errorf("closing message: %w", err)
			}
			return original(ctx, t)
		})
		return nil
	}}
}
