package main

import (
	"context"
	"fmt"

	"github.com/go-actions/actions"
)

// ClosingMessage is what chatGoodbye sends before a chat is wrapped up.
const ClosingMessage = "Thanks for chatting. Your session is now closed."

// RatingMessage is what version 2 of chatGoodbye sends instead.
const RatingMessage = "Thanks for chatting! How did we do? Reply 1 to 5."

// chatGoodbye replaces WrapupTask so that a chat gets a closing message,
// through SendMessage, before the original wrap-up runs; a voice task goes
// straight to the original: Flex's sixth example.
func chatGoodbye() plugin { return goodbye("", ClosingMessage) }

// chatGoodbyeV2 is the next version of chatGoodbye, under the same name: its
// closing message asks for a rating. Loaded while the app runs, it replaces
// the first version in one step.
func chatGoodbyeV2() plugin { return goodbye("v2", RatingMessage) }

// goodbye is version version of chat-goodbye, which sends message.
func goodbye(version, message string) plugin {
	return plugin{name: "chat-goodbye", version: version, init: func(a *app, p *actions.Plugin, log logf) {
		a.wrapupTask.In(p).Replace(func(ctx context.Context, t *Task, original func(context.Context, *Task) (Status, error)) (Status, error) {
			if t.Channel != Chat {
				log(ctx, "%s is not a chat: straight to the original WrapupTask", t.SID)
				return original(ctx, t)
			}
			log(ctx, "saying goodbye on %s before the original WrapupTask", t.Conversation)
			// ctx makes SendMessage a nested invocation: its own listeners
			// run, and the trace shows it inside WrapupTask.
			if _, err := a.sendMessage.Call(ctx, &Message{Conversation: t.Conversation, Author: "agent", Body: message}); err != nil {
				return "", fmt.Errorf("closing message: %w", err)
			}
			return original(ctx, t)
		})
	}}
}
