-- dcg staging: every judged command once, with the severity of its rule.

-- dcg records no severity (../shared/upstream/dcg.md §5.7); its packs give each destructive pattern
-- one (src/packs/*, dcg 1a52415 / v0.4.1): critical and high deny by default, medium warns, low
-- logs. Per pack, the patterns that are critical, medium or low; any other pattern of a listed pack
-- is high (the default of dcg's destructive_pattern!). A pack not listed (an external pack, or one
-- a later dcg added) has no known severity: NULL.
CREATE VIEW v1.dcg_pack_severities AS
SELECT * FROM (VALUES
  ('apigateway.apigee', ['gcloud-apigee-environments-delete', 'gcloud-apigee-organizations-delete', 'apigeecli-envs-delete', 'apigeecli-orgs-delete'], ['gcloud-apigee-deployments-undeploy'], []::VARCHAR[]),
  ('apigateway.aws', ['apigateway-delete-rest-api', 'apigatewayv2-delete-api'], ['apigateway-delete-method', 'apigateway-delete-deployment', 'apigateway-delete-model', 'apigatewayv2-delete-route-response', 'apigatewayv2-delete-integration-response'], []::VARCHAR[]),
  ('apigateway.kong', ['deck-reset'], ['kong-admin-delete-plugins', 'kong-admin-delete-targets', 'kong-admin-delete-generic'], []::VARCHAR[]),
  ('backup.borg', ['borg-delete'], ['borg-compact', 'borg-break-lock'], []::VARCHAR[]),
  ('backup.rclone', ['rclone-sync', 'rclone-delete', 'rclone-purge'], ['rclone-cleanup'], []::VARCHAR[]),
  ('backup.restic', ['restic-forget', 'restic-prune', 'restic-key-remove'], []::VARCHAR[], ['restic-cache-cleanup']),
  ('backup.velero', ['velero-uninstall'], ['velero-schedule-delete'], ['velero-restore-delete']),
  ('cdn.cloudflare_workers', ['wrangler-delete', 'wrangler-kv-namespace-delete', 'wrangler-r2-bucket-delete', 'wrangler-d1-delete'], ['wrangler-kv-key-delete', 'wrangler-r2-object-delete'], []::VARCHAR[]),
  ('cdn.cloudfront', ['cloudfront-delete-distribution', 'cloudfront-delete-key-group'], ['cloudfront-create-invalidation'], []::VARCHAR[]),
  ('cdn.fastly', ['fastly-service-delete', 'fastly-compute-delete'], ['fastly-dictionary-item-delete', 'fastly-acl-entry-delete'], []::VARCHAR[]),
  ('cicd.circleci', ['circleci-context-delete', 'circleci-namespace-delete'], ['circleci-pipeline-delete'], []::VARCHAR[]),
  ('cicd.github_actions', []::VARCHAR[], ['gh-actions-variable-remove', 'gh-actions-api-delete-variables'], ['gh-actions-workflow-disable', 'gh-actions-run-cancel']),
  ('cicd.gitlab_ci', ['gitlab-runner-unregister'], ['glab-ci-delete'], []::VARCHAR[]),
  ('cicd.jenkins', ['jenkins-cli-delete-job', 'jenkins-curl-do-delete'], ['jenkins-cli-delete-builds'], ['jenkins-cli-delete-view']),
  ('cloud.aws', ['ec2-terminate', 's3-rm-recursive', 's3-rb', 's3api-delete-bucket', 'rds-delete', 'cfn-delete-stack', 'dynamodb-delete', 'eks-delete'], ['ecr-delete-lifecycle-policy'], []::VARCHAR[]),
  ('cloud.azure', ['vm-delete', 'storage-delete', 'sql-delete', 'group-delete', 'aks-delete', 'cosmosdb-delete', 'keyvault-delete', 'acr-delete'], ['acr-repository-untag'], []::VARCHAR[]),
  ('cloud.gcp', ['compute-delete', 'disk-delete', 'sql-delete', 'gsutil-rm-recursive', 'gsutil-rb', 'gke-delete', 'project-delete', 'firestore-delete', 'artifacts-repositories-delete'], []::VARCHAR[], []::VARCHAR[]),
  ('containers.compose', ['down-volumes'], ['rm-force'], []::VARCHAR[]),
  ('containers.docker', []::VARCHAR[], ['image-prune', 'container-prune'], []::VARCHAR[]),
  ('containers.podman', ['volume-prune'], ['pod-prune', 'image-prune', 'container-prune'], []::VARCHAR[]),
  ('core.filesystem', ['rm-rf-root-home'], []::VARCHAR[], []::VARCHAR[]),
  ('core.git', ['reset-hard', 'clean-force', 'push-force-long', 'push-force-short', 'stash-clear'], ['branch-force-delete', 'stash-drop'], []::VARCHAR[]),
  ('database.mongodb', ['drop-database'], []::VARCHAR[], []::VARCHAR[]),
  ('database.mysql', ['drop-database', 'mysqladmin-drop', 'reset-master'], ['mysqldump-add-drop-table', 'drop-user'], []::VARCHAR[]),
  ('database.postgresql', ['drop-database', 'drop-schema', 'dropdb-cli'], []::VARCHAR[], []::VARCHAR[]),
  ('database.redis', ['flushall', 'debug-crash', 'config-dangerous'], []::VARCHAR[], []::VARCHAR[]),
  ('database.sqlite', ['drop-table', 'delete-without-where'], ['vacuum-into'], []::VARCHAR[]),
  ('dns.cloudflare', ['cloudflare-api-delete-zone'], []::VARCHAR[], []::VARCHAR[]),
  ('dns.generic', []::VARCHAR[], ['dns-nsupdate-local', 'dns-dig-zone-transfer'], []::VARCHAR[]),
  ('dns.route53', ['route53-delete-hosted-zone'], ['route53-delete-query-logging-config'], []::VARCHAR[]),
  ('email.mailgun', ['mailgun-delete-domain'], ['mailgun-delete-template', 'mailgun-delete-webhook'], ['mailgun-delete-tag']),
  ('email.postmark', ['postmark-delete-server', 'postmark-delete-domain'], ['postmark-delete-template', 'postmark-delete-webhook'], []::VARCHAR[]),
  ('email.sendgrid', ['sendgrid-delete-api-key', 'sendgrid-delete-whitelabel-domain', 'sendgrid-delete-subuser'], ['sendgrid-delete-teammate', 'sendgrid-delete-webhook'], []::VARCHAR[]),
  ('email.ses', ['ses-delete-receipt-rule-set', 'sesv2-delete-dedicated-ip-pool'], ['ses-delete-template', 'sesv2-delete-email-template'], []::VARCHAR[]),
  ('featureflags.flipt', ['flipt-flag-delete', 'flipt-namespace-delete'], ['flipt-constraint-delete', 'flipt-distribution-delete'], []::VARCHAR[]),
  ('featureflags.launchdarkly', ['ldcli-flags-delete', 'ldcli-projects-delete', 'ldcli-environments-delete', 'launchdarkly-api-delete-environments', 'launchdarkly-api-delete-flags', 'launchdarkly-api-delete-projects'], []::VARCHAR[], []::VARCHAR[]),
  ('featureflags.split', ['split-splits-delete', 'split-environments-delete', 'split-traffic-types-delete', 'split-workspaces-delete', 'split-api-delete-splits', 'split-api-delete-environments'], []::VARCHAR[], []::VARCHAR[]),
  ('featureflags.unleash', ['unleash-features-delete', 'unleash-projects-delete', 'unleash-environments-delete', 'unleash-api-delete-features', 'unleash-api-delete-projects'], []::VARCHAR[], []::VARCHAR[]),
  ('infrastructure.ansible', ['shell-rm-rf'], ['extra-vars-delete'], []::VARCHAR[]),
  ('infrastructure.pulumi', ['destroy'], ['refresh-yes'], []::VARCHAR[]),
  ('infrastructure.terraform', ['destroy'], ['plan-destroy', 'workspace-delete'], []::VARCHAR[]),
  ('kubernetes.helm', ['uninstall'], []::VARCHAR[], []::VARCHAR[]),
  ('kubernetes.kubectl', ['delete-namespace', 'delete-all-namespaces', 'delete-pvc', 'delete-pv', 'delete-force'], ['cordon-node'], []::VARCHAR[]),
  ('kubernetes.kustomize', ['kustomize-delete', 'kubectl-kustomize-delete', 'kubectl-delete-k'], []::VARCHAR[], []::VARCHAR[]),
  ('loadbalancer.elb', []::VARCHAR[], []::VARCHAR[], []::VARCHAR[]),
  ('loadbalancer.haproxy', []::VARCHAR[], []::VARCHAR[], []::VARCHAR[]),
  ('loadbalancer.nginx', ['nginx-config-delete'], []::VARCHAR[], []::VARCHAR[]),
  ('loadbalancer.traefik', ['traefik-docker-stop', 'traefik-docker-rm', 'traefik-compose-down', 'traefik-kubectl-delete-pod', 'traefik-config-delete'], []::VARCHAR[], []::VARCHAR[]),
  ('messaging.kafka', ['kafka-topics-delete', 'kafka-delete-records', 'rpk-topic-delete'], []::VARCHAR[], []::VARCHAR[]),
  ('messaging.nats', ['nats-stream-delete', 'nats-account-delete'], []::VARCHAR[], []::VARCHAR[]),
  ('messaging.rabbitmq', ['rabbitmqadmin-delete-queue', 'rabbitmqctl-delete-vhost', 'rabbitmqctl-reset', 'rabbitmqctl-force-reset'], []::VARCHAR[], []::VARCHAR[]),
  ('messaging.sqs_sns', ['aws-sqs-delete-queue', 'aws-sns-delete-topic'], ['aws-sqs-delete-message-batch', 'aws-sqs-delete-message'], []::VARCHAR[]),
  ('monitoring.datadog', []::VARCHAR[], []::VARCHAR[], []::VARCHAR[]),
  ('monitoring.newrelic', []::VARCHAR[], []::VARCHAR[], []::VARCHAR[]),
  ('monitoring.pagerduty', ['pd-service-delete', 'pagerduty-api-delete-service'], []::VARCHAR[], []::VARCHAR[]),
  ('monitoring.prometheus', ['prometheus-rules-file-delete', 'prometheus-tsdb-delete-series'], []::VARCHAR[], []::VARCHAR[]),
  ('monitoring.splunk', ['splunk-remove-index', 'splunk-clean-eventdata'], []::VARCHAR[], []::VARCHAR[]),
  ('package_managers', []::VARCHAR[], []::VARCHAR[], []::VARCHAR[]),
  ('payment.braintree', ['braintree-customer-delete', 'braintree-gateway-customer-delete', 'braintree-merchant-account-delete'], []::VARCHAR[], []::VARCHAR[]),
  ('payment.square', ['square-api-delete-customer', 'square-api-delete-location'], []::VARCHAR[], []::VARCHAR[]),
  ('payment.stripe', ['stripe-customers-delete'], ['stripe-api-keys-roll'], []::VARCHAR[]),
  ('platform.github', []::VARCHAR[], []::VARCHAR[], []::VARCHAR[]),
  ('platform.gitlab', []::VARCHAR[], []::VARCHAR[], []::VARCHAR[]),
  ('remote.rsync', []::VARCHAR[], []::VARCHAR[], []::VARCHAR[]),
  ('remote.scp', ['scp-recursive-root', 'scp-to-boot', 'scp-to-bin', 'scp-to-lib'], []::VARCHAR[], []::VARCHAR[]),
  ('remote.ssh', ['ssh-remote-rm-rf', 'ssh-remote-sudo-rm'], ['ssh-keygen-remove-host', 'ssh-add-delete-all'], []::VARCHAR[]),
  ('search.algolia', ['algolia-indices-delete', 'algolia-sdk-delete-index'], ['algolia-rules-delete', 'algolia-synonyms-delete'], []::VARCHAR[]),
  ('search.elasticsearch', ['es-curl-delete-index', 'es-http-delete-index'], ['es-curl-delete-doc', 'es-http-delete-doc'], []::VARCHAR[]),
  ('search.meilisearch', ['meili-curl-delete-index', 'meili-http-delete-index'], ['meili-curl-delete-document', 'meili-http-delete-document'], []::VARCHAR[]),
  ('search.opensearch', ['os-curl-delete-index', 'os-http-delete-index', 'aws-opensearch-delete-domain'], ['os-curl-delete-doc', 'os-http-delete-doc', 'aws-opensearch-delete-package'], []::VARCHAR[]),
  ('secrets.aws_secrets', ['aws-secretsmanager-delete-secret'], ['aws-secretsmanager-update-secret', 'aws-secretsmanager-put-secret-value'], []::VARCHAR[]),
  ('secrets.doppler', ['doppler-projects-delete'], []::VARCHAR[], []::VARCHAR[]),
  ('secrets.onepassword', ['op-vault-delete'], ['op-group-delete'], []::VARCHAR[]),
  ('secrets.vault', ['vault-secrets-disable', 'vault-kv-destroy', 'vault-kv-metadata-delete', 'vault-policy-delete', 'vault-auth-disable'], []::VARCHAR[], []::VARCHAR[]),
  ('storage.azure_blob', ['az-storage-container-delete', 'az-storage-account-delete'], ['az-storage-blob-delete'], []::VARCHAR[]),
  ('storage.gcs', ['gsutil-rb', 'gcloud-storage-buckets-delete'], []::VARCHAR[], []::VARCHAR[]),
  ('storage.minio', ['mc-rb', 'mc-admin-bucket-delete'], ['mc-admin-policy-remove'], []::VARCHAR[]),
  ('storage.s3', ['s3-rb', 's3api-delete-bucket'], ['s3api-delete-object'], []::VARCHAR[]),
  ('strict_git', []::VARCHAR[], []::VARCHAR[], []::VARCHAR[]),
  ('system.disk', []::VARCHAR[], []::VARCHAR[], []::VARCHAR[]),
  ('system.permissions', ['chmod-recursive-root', 'setfacl-all'], []::VARCHAR[], []::VARCHAR[]),
  ('system.services', ['systemctl-power', 'shutdown', 'reboot', 'init-level'], []::VARCHAR[], []::VARCHAR[])
) t(pack_id, critical, medium, low);
COMMENT ON VIEW v1.dcg_pack_severities IS 'dcg''s packs (as of dcg v0.4.1) with the patterns that are critical, medium or low; the other patterns of a listed pack are high';

-- Every command once, from a table of dcg rows (dcg, dcg_recent or a span of dcg):
--   1. a row read again (the same key: a history row re-read at a page edge, a pending record
--      re-read after dcg rewrote its file) counts once, as last read (a pending record may have
--      been consumed since);
--   2. a deny that is both in the history and in pending_exceptions.jsonl (the hook writes both)
--      counts once, as its history row: a pending record matches a history deny of the same machine,
--      cwd and rule within 2 seconds (the history has milliseconds, the record seconds);
--   3. severity comes from the rule (v1.dcg_pack_severities).
CREATE MACRO vc_dcg_events(src) AS TABLE
WITH stored AS (
  SELECT * FROM query_table(src)
  QUALIFY row_number() OVER (PARTITION BY machine_id, "key" ORDER BY collected_at DESC) = 1
),
hist AS (SELECT * FROM stored WHERE "type" = 'history'),
merged AS (
  SELECT * FROM hist
  UNION ALL BY NAME
  SELECT p.* FROM stored p
  WHERE p."type" = 'pending' AND NOT EXISTS (
    SELECT 1 FROM hist h
    WHERE h.machine_id = p.machine_id AND h.outcome = 'deny' AND h.cwd IS NOT DISTINCT FROM p.cwd
      AND h.rule_id IS NOT DISTINCT FROM p.rule_id AND abs(epoch(h.ts) - epoch(p.ts)) <= 2)
)
SELECT m.machine_id, m.ts, m."type" AS origin, m.outcome, m.rule_id, m.pack_id, m.pattern_name,
  CASE
    WHEN m.pattern_name IS NULL OR s.pack_id IS NULL THEN NULL
    WHEN list_contains(s.critical, m.pattern_name) THEN 'critical'
    WHEN list_contains(s.medium, m.pattern_name) THEN 'medium'
    WHEN list_contains(s.low, m.pattern_name) THEN 'low'
    ELSE 'high' END AS severity,
  CASE WHEN m.rule_id IS NOT NULL THEN least(m.rule_first_seen_at, m.ts) END AS rule_first_seen_at,
  m.reason, m.cwd, m.command_hash, m.agent_type, m.session_id, m.eval_duration_us, m.allowlist_layer, m.exit_code, m.bypass_code,
  m.full_hash, m.short_code, m.expires_at, m.consumed_at, m.match_source, m.collected_at, m."key"
FROM merged m LEFT JOIN v1.dcg_pack_severities s ON s.pack_id = m.pack_id;

CREATE VIEW v1.dcg_events AS FROM vc_dcg_events('dcg_recent');
COMMENT ON VIEW v1.dcg_events IS 'dcg over the recent window: one row per judged command (origin history or pending; a deny in both counts once, as its history row), outcome, rule, pack, severity from the rule (NULL: unknown pack), cwd, command hash, session, short code, expiry and consumed time of a pending record';
