-- Return visits, the engine (internal/revisit, SPEC §2.4): rules, the trigger inbox
-- (revisit_events, one row per source event, written in the producer's transaction),
-- every sampling decision (chosen or not, so the achieved rate is exact and auditable),
-- the visit tasks and the plan runs (monthly and holiday plans, once per period).
-- Settings (do-not-disturb windows, time zone, the sampling secret) live in the
-- settings table under "revisit.*". Times are Unix milliseconds (0 = never); JSON as TEXT.
-- +goose Up
CREATE TABLE revisit_rules (
    id            INTEGER PRIMARY KEY,
    code          TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    description   TEXT NOT NULL,
    trigger_event TEXT NOT NULL,
    filters       TEXT NOT NULL,
    window_start  TEXT NOT NULL,
    window_length TEXT NOT NULL,
    window_mode   TEXT NOT NULL,
    rate_pct      INTEGER NOT NULL,
    assignees     TEXT NOT NULL,
    team_id       BIGINT REFERENCES teams(id),
    methods       TEXT NOT NULL,
    script        TEXT NOT NULL,
    repeat_rule   TEXT NOT NULL,
    active        INTEGER NOT NULL,
    builtin       INTEGER NOT NULL,
    sort_order    INTEGER NOT NULL,
    version       BIGINT NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
INSERT INTO revisit_rules (code, name, description, trigger_event, filters, window_start, window_length, window_mode,
    rate_pct, assignees, methods, script, repeat_rule, active, builtin, sort_order, version, created_at, updated_at) VALUES
    ('complaint_closed', '投诉处理完毕回访', '投诉事情处理完毕后三天内进行回访，回访率达50%；一般投诉由物业助理回访，紧要投诉由部门主管回访，重点投诉由公司经理回访。',
     'complaint.closed', '{}', '0h', '3d', 'calendar', 50,
     '{"general":"source_agent","urgent":"dept_head","major":"director"}', '["phone","onsite"]',
     '[{"q":"您对投诉的处理结果是否满意？"},{"q":"处理人员的服务态度如何？"},{"q":"还有其他意见或建议吗？"}]', '{}', 1, 1, 10, 1, 0, 0),
    ('repair_done', '维修完毕回访', '维护和修理工程处理完毕后一个月内进行回访，回访率达30%，由责任区物业助理负责。',
     'ticket.resolved,ticket.closed', '{"types":["repair"]}', '0h', '30d', 'calendar', 30,
     '{"default":"territory"}', '["phone","onsite"]',
     '[{"q":"维修后使用是否正常？"},{"q":"您对维修质量和服务是否满意？"}]', '{}', 1, 1, 20, 1, 0, 0),
    ('activity_ended', '活动结束回访', '组织文体活动结束后一个月内进行回访，回访率达10%，由活动组织者负责。',
     'activity.ended', '{}', '0h', '30d', 'calendar', 10,
     '{"default":"organiser"}', '["phone"]',
     '[{"q":"您对本次活动是否满意？"},{"q":"希望今后举办什么样的活动？"}]', '{}', 1, 1, 30, 1, 0, 0),
    ('sales_visit', '拜访客户回访', '拜访后24小时内，由客户回访专员进行电话回访（核实拜访，不由拜访的业务人员回访）。',
     'fieldvisit.recorded', '{}', '0h', '24h', 'calendar', 100,
     '{"default":"center"}', '["phone"]',
     '[{"q":"业务人员是否按约拜访？"},{"q":"您对业务人员的服务是否满意？"},{"q":"产品或业务上还有什么问题？"}]', '{}', 1, 1, 40, 1, 0, 0),
    ('coop_monthly', '合作客户月度回访', '每月对合作客户进行一次电话回访（第一个工作日开始，前三个工作日做完）。',
     'plan.monthly', '{"cooperating":true}', '0h', '3d', 'month_working_days', 100,
     '{"default":"account_agent"}', '["phone"]',
     '[{"q":"您对业务及客服人员的服务是否满意？"},{"q":"近期还有其他业务需求吗？"}]', '{}', 1, 1, 50, 1, 0, 0),
    ('move_in', '入伙回访', '新入住客户的入伙回访。', 'customer.created', '{}', '0h', '7d', 'calendar', 100,
     '{"default":"account_agent"}', '["phone","onsite"]', '[{"q":"入住手续办理是否顺利？"}]', '{}', 1, 1, 60, 1, 0, 0),
    ('incident_closed', '突发事件处理完毕回访', '突发事件（重大请求）处理完毕后回访。', 'ticket.resolved,ticket.closed',
     '{"severities":["major"]}', '0h', '3d', 'calendar', 100,
     '{"default":"dept_head"}', '["phone","onsite"]', '[{"q":"事件处理结果是否满意？"}]', '{}', 1, 1, 70, 1, 0, 0),
    ('holiday_care', '重点节日探望', '重点节日前由公司经理组织探望重点客户。', 'plan.holiday', '{"key_only":true}', '0h', '3d',
     'working_days_before', 100, '{"default":"director"}', '["onsite","phone"]', '[]', '{}', 1, 1, 80, 1, 0, 0),
    ('sales_inbound_call', '来电客户当日回访', '当日来电客户当日电话回访，确定客户质量并邀约其来访。', 'call.inbound', '{}', '0h', '1d',
     'same_day', 100, '{"default":"account_agent"}', '["phone"]', '[]', '{}', 0, 1, 110, 1, 0, 0),
    ('sales_promising_caller', '优质来电客户邀约', '优质来电客户三日内再次电话邀约，之后每周定期邀约，直到其来访。', 'call.inbound',
     '{"intent_classes":["A","B"]}', '1d', '2d', 'calendar', 100, '{"default":"account_agent"}', '["phone"]', '[]',
     '{"kind":"weekly","stop":["visit_recorded"]}', 0, 1, 120, 1, 0, 0),
    ('sales_visitor_ab', 'A、B类来访客户回访', 'A、B类来访客户当日电话回访，三日内再次回访。', 'fieldvisit.recorded',
     '{"intent_classes":["A","B"]}', '0h', '1d', 'same_day', 100, '{"default":"account_agent"}', '["phone"]', '[]',
     '{"kind":"days","days":3,"count":1}', 0, 1, 130, 1, 0, 0),
    ('sales_key_visitor', '重点客户每三天回访', '重点客户每三天电话回访。', 'fieldvisit.recorded', '{"key_only":true}', '0h', '3d',
     'calendar', 100, '{"default":"account_agent"}', '["phone"]', '[]', '{"kind":"days","days":3,"stop":["deal_closed"]}', 0, 1, 140, 1, 0, 0),
    ('sales_hesitant_weekly', '有抗性客户每周回访', '部分有抗性客户及C类客户每周回访。', 'fieldvisit.recorded', '{"intent_classes":["C"]}',
     '0h', '7d', 'calendar', 100, '{"default":"account_agent"}', '["phone"]', '[]', '{"kind":"weekly","stop":["deal_closed"]}', 0, 1, 150, 1, 0, 0),
    ('sales_class_d', 'D类客户节日问候', 'D类客户在重要节点及节日给予祝福，多以信息形式维护。', 'fieldvisit.recorded', '{"intent_classes":["D"]}',
     '0h', '1d', 'same_day', 100, '{"default":"account_agent"}', '["sms","wechat"]', '[]', '{"kind":"holidays"}', 0, 1, 160, 1, 0, 0),
    ('sales_deal_closed', '成交客户回访', '成交客户当日电话回访，之后每半月回访。', 'deal.closed', '{}', '0h', '1d', 'same_day', 100,
     '{"default":"account_agent"}', '["phone","sms"]', '[]', '{"kind":"half_month"}', 0, 1, 170, 1, 0, 0),
    ('care_vip_monthly', 'VIP客户每月深度沟通', 'VIP客户每月至少一次深度沟通。', 'plan.monthly', '{"tiers":["vip"]}', '0h', '30d',
     'calendar', 100, '{"default":"account_agent"}', '["phone","onsite"]', '[]', '{}', 0, 1, 210, 1, 0, 0),
    ('care_regular_biweekly', '普通客户每两周回访', '普通客户每两周回访一次。', 'plan.half_month', '{"tiers":["regular"]}', '0h', '14d',
     'calendar', 100, '{"default":"account_agent"}', '["phone"]', '[]', '{}', 0, 1, 220, 1, 0, 0),
    ('care_birthday', '生日问候', '客户生日当天的祝福。', 'plan.birthday', '{}', '0h', '1d', 'same_day', 100,
     '{"default":"account_agent"}', '["sms","phone","wechat"]', '[]', '{}', 0, 1, 230, 1, 0, 0),
    ('care_holiday_greeting', '节日问候', '节日以信息或电话形式致以节日祝福。', 'plan.holiday', '{}', '0h', '1d',
     'working_days_before', 100, '{"default":"account_agent"}', '["sms","wechat"]', '[]', '{}', 0, 1, 240, 1, 0, 0);

-- The inbox: one row per source event (event_key unique: a listener that runs twice
-- writes nothing new). subject_key names the thing visited about (the request and its
-- reopen round, the complaint, the participant); decisions are keyed by it, so a
-- request resolved and then closed gives one decision per rule.
CREATE TABLE revisit_events (
    id           INTEGER PRIMARY KEY,
    event_key    TEXT NOT NULL UNIQUE,
    event        TEXT NOT NULL,
    subject_key  TEXT NOT NULL,
    source_type  TEXT NOT NULL,
    source_id    BIGINT NOT NULL,
    customer_id  BIGINT NOT NULL,
    dept_id      BIGINT NOT NULL,
    team_id      BIGINT NOT NULL,
    actor_id     BIGINT NOT NULL,
    agent_id     BIGINT NOT NULL,
    level        TEXT NOT NULL,
    attrs        TEXT NOT NULL,
    occurred_at  BIGINT NOT NULL,
    processed_at BIGINT NOT NULL,
    created_at   BIGINT NOT NULL
);
-- The engine takes the rows after its cursor (revisit_engine_cursor.last_event_id) in id
-- order, one transaction per batch that also moves the cursor, so no inbox row is ever
-- rewritten. A row written with processed_at <> 0 (history imported as already handled)
-- is passed over.
CREATE TABLE revisit_engine_cursor (
    id            INTEGER PRIMARY KEY,
    last_event_id BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
INSERT INTO revisit_engine_cursor (id, last_event_id, updated_at) VALUES (1, 0, 0);
CREATE INDEX revisit_events_source ON revisit_events(source_type, source_id);

CREATE TABLE revisit_tasks (
    id              INTEGER PRIMARY KEY,
    rule_code       TEXT NOT NULL,
    customer_id     BIGINT NOT NULL REFERENCES customers(id),
    source_type     TEXT NOT NULL,
    source_id       BIGINT NOT NULL,
    level           TEXT NOT NULL,
    dept_id         BIGINT REFERENCES departments(id),
    team_id         BIGINT REFERENCES teams(id),
    assignee_id     BIGINT REFERENCES staff(id),
    window_start    BIGINT NOT NULL,
    window_end      BIGINT NOT NULL,
    scheduled_at    BIGINT NOT NULL,
    method          TEXT NOT NULL,
    status          TEXT NOT NULL,
    round           INTEGER NOT NULL,
    parent_id       BIGINT REFERENCES revisit_tasks(id),
    attempts        INTEGER NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    done_at         BIGINT NOT NULL,
    decision_id     BIGINT,
    plan_key        TEXT NOT NULL,
    version         BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
-- (rule_code, window_start) and the decisions by (rule_code, chosen, decided_at) are
-- served by the report's covering indexes (00020_revisit_report_indexes).
CREATE INDEX revisit_tasks_assignee ON revisit_tasks(assignee_id, status, scheduled_at);
CREATE INDEX revisit_tasks_customer ON revisit_tasks(customer_id);
CREATE INDEX revisit_tasks_source ON revisit_tasks(source_type, source_id);
CREATE INDEX revisit_tasks_due ON revisit_tasks(status, window_end);
CREATE UNIQUE INDEX revisit_tasks_plan ON revisit_tasks(plan_key) WHERE plan_key <> '';

-- Every sampling decision, chosen or not: bucket is the keyed hash of (rule, subject)
-- in 0..9999, chosen when bucket < rate_pct * 100 or the customer is a key customer.
CREATE TABLE revisit_decisions (
    id          INTEGER PRIMARY KEY,
    rule_code   TEXT NOT NULL,
    event_key   TEXT NOT NULL,
    customer_id BIGINT NOT NULL,
    bucket      INTEGER NOT NULL,
    rate_pct    INTEGER NOT NULL,
    chosen      INTEGER NOT NULL,
    reason      TEXT NOT NULL,
    task_id     BIGINT,
    decided_at  BIGINT NOT NULL,
    UNIQUE (rule_code, event_key)
);

-- Exact decision counts per rule and China day (Asia/Shanghai) of decided_at, kept by
-- the engine in the batch transaction that stores the decisions (the report reads them).
CREATE TABLE revisit_decision_stats (
    rule_code TEXT NOT NULL,
    day       TEXT NOT NULL,
    decided   BIGINT NOT NULL,
    chosen    BIGINT NOT NULL,
    PRIMARY KEY (rule_code, day)
);

-- Plan runs: one row per (rule, period) once the period's tasks exist.
CREATE TABLE revisit_plan_runs (
    id         INTEGER PRIMARY KEY,
    rule_code  TEXT NOT NULL,
    period     TEXT NOT NULL,
    created    INTEGER NOT NULL,
    at         BIGINT NOT NULL,
    UNIQUE (rule_code, period)
);

-- +goose Down
DROP TABLE revisit_plan_runs;
DROP TABLE revisit_decision_stats;
DROP TABLE revisit_decisions;
DROP TABLE revisit_tasks;
DROP TABLE revisit_engine_cursor;
DROP TABLE revisit_events;
DROP TABLE revisit_rules;
