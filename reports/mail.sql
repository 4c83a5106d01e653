-- name: stores
SELECT machine_id, store, layout, collected_at, last_message_id, agents_total, agents_live, urgent_unread_total,
  ack_pending_total, reservations_active_total, missing_columns
FROM v1.mail_stores ORDER BY machine_id, store;

-- name: factors
SELECT f.machine_id, f.factor_id, f.subject, f.value, grade(f.value, t.warn, t.crit, t.higher_is_worse) AS severity, f.summary, f.title, f.next
FROM v1.mail_factors f JOIN v1.health_thresholds t USING (factor_id)
ORDER BY severity_rank(grade(f.value, t.warn, t.crit, t.higher_is_worse)) DESC, f.value DESC, f.machine_id, f.factor_id, f.subject;

-- name: urgent_unread
SELECT machine_id, store, project_slug, agent_id, agent_name, message_id, subject, importance, sender_name, thread_id, created_at, age_s, past_grace
FROM v1.mail_urgent_unread ORDER BY age_s DESC, machine_id, message_id, agent_id LIMIT 100;

-- name: ack_overdue
SELECT machine_id, store, project_slug, agent_id, agent_name, message_id, subject, importance, sender_name, thread_id, created_at, read_at, overdue_s
FROM v1.mail_ack_overdue ORDER BY overdue_s DESC, machine_id, message_id, agent_id LIMIT 100;

-- name: reservations
SELECT machine_id, store, reservation_id, project_slug, path_pattern, "exclusive", reason, agent_id, agent_name, agent_program,
  agent_last_active_at, created_at, expires_at, state, expires_in_s, expiring_soon, holder_state, stale
FROM v1.mail_reservations
ORDER BY stale DESC, expiring_soon DESC, state, expires_at, machine_id, reservation_id;

-- name: activity
SELECT * FROM v1.mail_activity ORDER BY machine_id, store, messages DESC, project_slug;
