-- Indexes of repeating rules (internal/revisit/repeat_store.go): the occurrences made
-- after a task of a series (the job looks only at tasks with none), and a customer's
-- trigger events by kind and time (the stop conditions: a field visit recorded, a deal
-- closed since the series began).
-- +goose Up
CREATE INDEX revisit_tasks_parent ON revisit_tasks(parent_id) WHERE parent_id IS NOT NULL;
CREATE INDEX revisit_events_customer ON revisit_events(customer_id, event, occurred_at);

-- +goose Down
DROP INDEX revisit_events_customer;
DROP INDEX revisit_tasks_parent;
