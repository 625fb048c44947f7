import BrokerProtocol
import Testing

@testable import Broker

// Checks that every key of Centrifugo v6's OSS config is classified by the broker: honoured (a schema setting, or
// inside a setting that reads its value whole), refused when set, or inert by design (`UnsupportedKeys`).

// MARK: - The corpus

/// Centrifugo v6 OSS config keys, taken from its config structs at commit f25c7abd0701195829a62f19e1baffd42a7a43e9
/// of github.com/centrifugal/centrifugo.
///
/// Made by a throwaway script that walked the Go structs from `Config` (internal/config/config.go) through
/// internal/configtypes: every field with a `mapstructure` tag is a key; a struct-typed field contributes its
/// fields as dotted paths; an embedded `,squash` struct adds its fields to its parent; a slice of structs is a list,
/// listed itself and with its element keys as `list[].key` (namespace entries embed the channel options, so
/// `channel.namespaces[].x` mirrors `channel.without_namespace.x`). Duration, PEMData, MapStringString,
/// StringKeyValues, scalars, maps and slices of scalars are leaves. Keys that only hold other keys (objects) are
/// not listed; fields without a `mapstructure` tag (internal or test-only) are left out. Sorted.
private let centrifugoKeys: [String] = [
    "admin.enabled", "admin.external", "admin.handler_prefix", "admin.insecure", "admin.password", "admin.secret",
    "admin.web_path", "admin.web_proxy_address", "broker.enabled", "broker.nats.allow_wildcards",
    "broker.nats.dial_timeout", "broker.nats.prefix", "broker.nats.raw_mode.channel_replacements",
    "broker.nats.raw_mode.enabled", "broker.nats.raw_mode.prefix", "broker.nats.tls.cert_pem",
    "broker.nats.tls.client_ca_pem", "broker.nats.tls.enabled", "broker.nats.tls.insecure_skip_verify",
    "broker.nats.tls.key_pem", "broker.nats.tls.server_ca_pem", "broker.nats.tls.server_name", "broker.nats.url",
    "broker.nats.write_timeout", "broker.postgres.binary_data", "broker.postgres.cleanup_interval",
    "broker.postgres.dsn", "broker.postgres.idempotent_result_ttl", "broker.postgres.notify_dsn",
    "broker.postgres.num_shards", "broker.postgres.outbox.batch_size", "broker.postgres.outbox.poll_interval",
    "broker.postgres.partition_lookahead_days", "broker.postgres.partition_retention_days", "broker.postgres.pool_size",
    "broker.postgres.skip_schema_init", "broker.postgres.stream_retention", "broker.postgres.table_prefix",
    "broker.postgres.tls.cert_pem", "broker.postgres.tls.client_ca_pem", "broker.postgres.tls.enabled",
    "broker.postgres.tls.insecure_skip_verify", "broker.postgres.tls.key_pem", "broker.postgres.tls.server_ca_pem",
    "broker.postgres.tls.server_name", "broker.postgres.use_notify", "broker.redis.address", "broker.redis.client_name",
    "broker.redis.cluster_address", "broker.redis.connect_timeout", "broker.redis.db", "broker.redis.force_resp2",
    "broker.redis.history_use_lists", "broker.redis.io_timeout", "broker.redis.password", "broker.redis.prefix",
    "broker.redis.replica_client.enabled", "broker.redis.sentinel_address", "broker.redis.sentinel_client_name",
    "broker.redis.sentinel_master_name", "broker.redis.sentinel_password", "broker.redis.sentinel_tls.cert_pem",
    "broker.redis.sentinel_tls.client_ca_pem", "broker.redis.sentinel_tls.enabled",
    "broker.redis.sentinel_tls.insecure_skip_verify", "broker.redis.sentinel_tls.key_pem",
    "broker.redis.sentinel_tls.server_ca_pem", "broker.redis.sentinel_tls.server_name", "broker.redis.sentinel_user",
    "broker.redis.tls.cert_pem", "broker.redis.tls.client_ca_pem", "broker.redis.tls.enabled",
    "broker.redis.tls.insecure_skip_verify", "broker.redis.tls.key_pem", "broker.redis.tls.server_ca_pem",
    "broker.redis.tls.server_name", "broker.redis.user", "broker.redisnats.nats.allow_wildcards",
    "broker.redisnats.nats.dial_timeout", "broker.redisnats.nats.prefix",
    "broker.redisnats.nats.raw_mode.channel_replacements", "broker.redisnats.nats.raw_mode.enabled",
    "broker.redisnats.nats.raw_mode.prefix", "broker.redisnats.nats.tls.cert_pem",
    "broker.redisnats.nats.tls.client_ca_pem", "broker.redisnats.nats.tls.enabled",
    "broker.redisnats.nats.tls.insecure_skip_verify", "broker.redisnats.nats.tls.key_pem",
    "broker.redisnats.nats.tls.server_ca_pem", "broker.redisnats.nats.tls.server_name", "broker.redisnats.nats.url",
    "broker.redisnats.nats.write_timeout", "broker.redisnats.redis.address", "broker.redisnats.redis.client_name",
    "broker.redisnats.redis.cluster_address", "broker.redisnats.redis.connect_timeout", "broker.redisnats.redis.db",
    "broker.redisnats.redis.force_resp2", "broker.redisnats.redis.history_use_lists",
    "broker.redisnats.redis.io_timeout", "broker.redisnats.redis.password", "broker.redisnats.redis.prefix",
    "broker.redisnats.redis.replica_client.enabled", "broker.redisnats.redis.sentinel_address",
    "broker.redisnats.redis.sentinel_client_name", "broker.redisnats.redis.sentinel_master_name",
    "broker.redisnats.redis.sentinel_password", "broker.redisnats.redis.sentinel_tls.cert_pem",
    "broker.redisnats.redis.sentinel_tls.client_ca_pem", "broker.redisnats.redis.sentinel_tls.enabled",
    "broker.redisnats.redis.sentinel_tls.insecure_skip_verify", "broker.redisnats.redis.sentinel_tls.key_pem",
    "broker.redisnats.redis.sentinel_tls.server_ca_pem", "broker.redisnats.redis.sentinel_tls.server_name",
    "broker.redisnats.redis.sentinel_user", "broker.redisnats.redis.tls.cert_pem",
    "broker.redisnats.redis.tls.client_ca_pem", "broker.redisnats.redis.tls.enabled",
    "broker.redisnats.redis.tls.insecure_skip_verify", "broker.redisnats.redis.tls.key_pem",
    "broker.redisnats.redis.tls.server_ca_pem", "broker.redisnats.redis.tls.server_name", "broker.redisnats.redis.user",
    "broker.type", "channel.history_meta_ttl", "channel.max_length", "channel.namespace_boundary", "channel.namespaces",
    "channel.namespaces[].allow_history_for_anonymous", "channel.namespaces[].allow_history_for_client",
    "channel.namespaces[].allow_history_for_subscriber", "channel.namespaces[].allow_positioning",
    "channel.namespaces[].allow_presence_for_anonymous", "channel.namespaces[].allow_presence_for_client",
    "channel.namespaces[].allow_presence_for_subscriber", "channel.namespaces[].allow_publish_for_anonymous",
    "channel.namespaces[].allow_publish_for_client", "channel.namespaces[].allow_publish_for_subscriber",
    "channel.namespaces[].allow_recovery", "channel.namespaces[].allow_subscribe_for_anonymous",
    "channel.namespaces[].allow_subscribe_for_client", "channel.namespaces[].allow_tags_filter",
    "channel.namespaces[].allow_user_limited_channels", "channel.namespaces[].allowed_delta_types",
    "channel.namespaces[].auto_cache_recover", "channel.namespaces[].channel_regex",
    "channel.namespaces[].delta_publish", "channel.namespaces[].force_positioning",
    "channel.namespaces[].force_push_join_leave", "channel.namespaces[].force_recovery",
    "channel.namespaces[].force_recovery_mode", "channel.namespaces[].history_meta_ttl",
    "channel.namespaces[].history_size", "channel.namespaces[].history_ttl", "channel.namespaces[].join_leave",
    "channel.namespaces[].map.allow_publish_for_anonymous", "channel.namespaces[].map.allow_publish_for_client",
    "channel.namespaces[].map.allow_publish_for_subscriber", "channel.namespaces[].map.allow_remove_for_anonymous",
    "channel.namespaces[].map.allow_remove_for_client", "channel.namespaces[].map.allow_remove_for_subscriber",
    "channel.namespaces[].map.client_key", "channel.namespaces[].map.default_page_size",
    "channel.namespaces[].map.key_ttl", "channel.namespaces[].map.live_transition_max_publication_limit",
    "channel.namespaces[].map.max_page_size", "channel.namespaces[].map.meta_ttl",
    "channel.namespaces[].map.min_page_size", "channel.namespaces[].map.mode",
    "channel.namespaces[].map.publish_proxy_enabled", "channel.namespaces[].map.publish_proxy_name",
    "channel.namespaces[].map.remove_client_on_unsubscribe", "channel.namespaces[].map.remove_proxy_enabled",
    "channel.namespaces[].map.remove_proxy_name", "channel.namespaces[].map.stream_size",
    "channel.namespaces[].map.stream_ttl", "channel.namespaces[].map.subscribe_catch_up_timeout",
    "channel.namespaces[].map_clients_presence_channel_prefix",
    "channel.namespaces[].map_users_presence_channel_prefix", "channel.namespaces[].name",
    "channel.namespaces[].presence", "channel.namespaces[].publication_data_format",
    "channel.namespaces[].publish_proxy_enabled", "channel.namespaces[].publish_proxy_name",
    "channel.namespaces[].shared_poll.channel_shutdown_delay",
    "channel.namespaces[].shared_poll.max_keys_per_connection", "channel.namespaces[].shared_poll.mode",
    "channel.namespaces[].shared_poll.proxy_name", "channel.namespaces[].shared_poll.publish_enabled",
    "channel.namespaces[].shared_poll.refresh_batch_size", "channel.namespaces[].shared_poll.refresh_interval",
    "channel.namespaces[].shared_poll.track_expired_extra_delay", "channel.namespaces[].sub_refresh_proxy_enabled",
    "channel.namespaces[].sub_refresh_proxy_name", "channel.namespaces[].subscribe_proxy_enabled",
    "channel.namespaces[].subscribe_proxy_name", "channel.namespaces[].subscribe_stream_proxy_bidirectional",
    "channel.namespaces[].subscribe_stream_proxy_enabled", "channel.namespaces[].subscribe_stream_proxy_name",
    "channel.namespaces[].subscription_type", "channel.private_prefix", "channel.proxy.map_publish.binary_encoding",
    "channel.proxy.map_publish.emulated_headers", "channel.proxy.map_publish.endpoint",
    "channel.proxy.map_publish.grpc.compression", "channel.proxy.map_publish.grpc.credentials_key",
    "channel.proxy.map_publish.grpc.credentials_value", "channel.proxy.map_publish.grpc.static_metadata",
    "channel.proxy.map_publish.grpc.tls.cert_pem", "channel.proxy.map_publish.grpc.tls.client_ca_pem",
    "channel.proxy.map_publish.grpc.tls.enabled", "channel.proxy.map_publish.grpc.tls.insecure_skip_verify",
    "channel.proxy.map_publish.grpc.tls.key_pem", "channel.proxy.map_publish.grpc.tls.server_ca_pem",
    "channel.proxy.map_publish.grpc.tls.server_name", "channel.proxy.map_publish.grpc_metadata",
    "channel.proxy.map_publish.http.static_headers", "channel.proxy.map_publish.http.status_to_code_transforms",
    "channel.proxy.map_publish.http.status_to_code_transforms[].status_code",
    "channel.proxy.map_publish.http.status_to_code_transforms[].to_disconnect.code",
    "channel.proxy.map_publish.http.status_to_code_transforms[].to_disconnect.reason",
    "channel.proxy.map_publish.http.status_to_code_transforms[].to_error.code",
    "channel.proxy.map_publish.http.status_to_code_transforms[].to_error.message",
    "channel.proxy.map_publish.http.status_to_code_transforms[].to_error.temporary",
    "channel.proxy.map_publish.http.tls.cert_pem", "channel.proxy.map_publish.http.tls.client_ca_pem",
    "channel.proxy.map_publish.http.tls.enabled", "channel.proxy.map_publish.http.tls.insecure_skip_verify",
    "channel.proxy.map_publish.http.tls.key_pem", "channel.proxy.map_publish.http.tls.server_ca_pem",
    "channel.proxy.map_publish.http.tls.server_name", "channel.proxy.map_publish.http_headers",
    "channel.proxy.map_publish.include_connection_meta", "channel.proxy.map_publish.timeout",
    "channel.proxy.map_remove.binary_encoding", "channel.proxy.map_remove.emulated_headers",
    "channel.proxy.map_remove.endpoint", "channel.proxy.map_remove.grpc.compression",
    "channel.proxy.map_remove.grpc.credentials_key", "channel.proxy.map_remove.grpc.credentials_value",
    "channel.proxy.map_remove.grpc.static_metadata", "channel.proxy.map_remove.grpc.tls.cert_pem",
    "channel.proxy.map_remove.grpc.tls.client_ca_pem", "channel.proxy.map_remove.grpc.tls.enabled",
    "channel.proxy.map_remove.grpc.tls.insecure_skip_verify", "channel.proxy.map_remove.grpc.tls.key_pem",
    "channel.proxy.map_remove.grpc.tls.server_ca_pem", "channel.proxy.map_remove.grpc.tls.server_name",
    "channel.proxy.map_remove.grpc_metadata", "channel.proxy.map_remove.http.static_headers",
    "channel.proxy.map_remove.http.status_to_code_transforms",
    "channel.proxy.map_remove.http.status_to_code_transforms[].status_code",
    "channel.proxy.map_remove.http.status_to_code_transforms[].to_disconnect.code",
    "channel.proxy.map_remove.http.status_to_code_transforms[].to_disconnect.reason",
    "channel.proxy.map_remove.http.status_to_code_transforms[].to_error.code",
    "channel.proxy.map_remove.http.status_to_code_transforms[].to_error.message",
    "channel.proxy.map_remove.http.status_to_code_transforms[].to_error.temporary",
    "channel.proxy.map_remove.http.tls.cert_pem", "channel.proxy.map_remove.http.tls.client_ca_pem",
    "channel.proxy.map_remove.http.tls.enabled", "channel.proxy.map_remove.http.tls.insecure_skip_verify",
    "channel.proxy.map_remove.http.tls.key_pem", "channel.proxy.map_remove.http.tls.server_ca_pem",
    "channel.proxy.map_remove.http.tls.server_name", "channel.proxy.map_remove.http_headers",
    "channel.proxy.map_remove.include_connection_meta", "channel.proxy.map_remove.timeout",
    "channel.proxy.publish.binary_encoding", "channel.proxy.publish.emulated_headers", "channel.proxy.publish.endpoint",
    "channel.proxy.publish.grpc.compression", "channel.proxy.publish.grpc.credentials_key",
    "channel.proxy.publish.grpc.credentials_value", "channel.proxy.publish.grpc.static_metadata",
    "channel.proxy.publish.grpc.tls.cert_pem", "channel.proxy.publish.grpc.tls.client_ca_pem",
    "channel.proxy.publish.grpc.tls.enabled", "channel.proxy.publish.grpc.tls.insecure_skip_verify",
    "channel.proxy.publish.grpc.tls.key_pem", "channel.proxy.publish.grpc.tls.server_ca_pem",
    "channel.proxy.publish.grpc.tls.server_name", "channel.proxy.publish.grpc_metadata",
    "channel.proxy.publish.http.static_headers", "channel.proxy.publish.http.status_to_code_transforms",
    "channel.proxy.publish.http.status_to_code_transforms[].status_code",
    "channel.proxy.publish.http.status_to_code_transforms[].to_disconnect.code",
    "channel.proxy.publish.http.status_to_code_transforms[].to_disconnect.reason",
    "channel.proxy.publish.http.status_to_code_transforms[].to_error.code",
    "channel.proxy.publish.http.status_to_code_transforms[].to_error.message",
    "channel.proxy.publish.http.status_to_code_transforms[].to_error.temporary",
    "channel.proxy.publish.http.tls.cert_pem", "channel.proxy.publish.http.tls.client_ca_pem",
    "channel.proxy.publish.http.tls.enabled", "channel.proxy.publish.http.tls.insecure_skip_verify",
    "channel.proxy.publish.http.tls.key_pem", "channel.proxy.publish.http.tls.server_ca_pem",
    "channel.proxy.publish.http.tls.server_name", "channel.proxy.publish.http_headers",
    "channel.proxy.publish.include_connection_meta", "channel.proxy.publish.timeout",
    "channel.proxy.shared_poll_refresh.binary_encoding", "channel.proxy.shared_poll_refresh.emulated_headers",
    "channel.proxy.shared_poll_refresh.endpoint", "channel.proxy.shared_poll_refresh.grpc.compression",
    "channel.proxy.shared_poll_refresh.grpc.credentials_key",
    "channel.proxy.shared_poll_refresh.grpc.credentials_value",
    "channel.proxy.shared_poll_refresh.grpc.static_metadata", "channel.proxy.shared_poll_refresh.grpc.tls.cert_pem",
    "channel.proxy.shared_poll_refresh.grpc.tls.client_ca_pem", "channel.proxy.shared_poll_refresh.grpc.tls.enabled",
    "channel.proxy.shared_poll_refresh.grpc.tls.insecure_skip_verify",
    "channel.proxy.shared_poll_refresh.grpc.tls.key_pem", "channel.proxy.shared_poll_refresh.grpc.tls.server_ca_pem",
    "channel.proxy.shared_poll_refresh.grpc.tls.server_name", "channel.proxy.shared_poll_refresh.grpc_metadata",
    "channel.proxy.shared_poll_refresh.http.static_headers",
    "channel.proxy.shared_poll_refresh.http.status_to_code_transforms",
    "channel.proxy.shared_poll_refresh.http.status_to_code_transforms[].status_code",
    "channel.proxy.shared_poll_refresh.http.status_to_code_transforms[].to_disconnect.code",
    "channel.proxy.shared_poll_refresh.http.status_to_code_transforms[].to_disconnect.reason",
    "channel.proxy.shared_poll_refresh.http.status_to_code_transforms[].to_error.code",
    "channel.proxy.shared_poll_refresh.http.status_to_code_transforms[].to_error.message",
    "channel.proxy.shared_poll_refresh.http.status_to_code_transforms[].to_error.temporary",
    "channel.proxy.shared_poll_refresh.http.tls.cert_pem", "channel.proxy.shared_poll_refresh.http.tls.client_ca_pem",
    "channel.proxy.shared_poll_refresh.http.tls.enabled",
    "channel.proxy.shared_poll_refresh.http.tls.insecure_skip_verify",
    "channel.proxy.shared_poll_refresh.http.tls.key_pem", "channel.proxy.shared_poll_refresh.http.tls.server_ca_pem",
    "channel.proxy.shared_poll_refresh.http.tls.server_name", "channel.proxy.shared_poll_refresh.http_headers",
    "channel.proxy.shared_poll_refresh.include_connection_meta", "channel.proxy.shared_poll_refresh.timeout",
    "channel.proxy.sub_refresh.binary_encoding", "channel.proxy.sub_refresh.emulated_headers",
    "channel.proxy.sub_refresh.endpoint", "channel.proxy.sub_refresh.grpc.compression",
    "channel.proxy.sub_refresh.grpc.credentials_key", "channel.proxy.sub_refresh.grpc.credentials_value",
    "channel.proxy.sub_refresh.grpc.static_metadata", "channel.proxy.sub_refresh.grpc.tls.cert_pem",
    "channel.proxy.sub_refresh.grpc.tls.client_ca_pem", "channel.proxy.sub_refresh.grpc.tls.enabled",
    "channel.proxy.sub_refresh.grpc.tls.insecure_skip_verify", "channel.proxy.sub_refresh.grpc.tls.key_pem",
    "channel.proxy.sub_refresh.grpc.tls.server_ca_pem", "channel.proxy.sub_refresh.grpc.tls.server_name",
    "channel.proxy.sub_refresh.grpc_metadata", "channel.proxy.sub_refresh.http.static_headers",
    "channel.proxy.sub_refresh.http.status_to_code_transforms",
    "channel.proxy.sub_refresh.http.status_to_code_transforms[].status_code",
    "channel.proxy.sub_refresh.http.status_to_code_transforms[].to_disconnect.code",
    "channel.proxy.sub_refresh.http.status_to_code_transforms[].to_disconnect.reason",
    "channel.proxy.sub_refresh.http.status_to_code_transforms[].to_error.code",
    "channel.proxy.sub_refresh.http.status_to_code_transforms[].to_error.message",
    "channel.proxy.sub_refresh.http.status_to_code_transforms[].to_error.temporary",
    "channel.proxy.sub_refresh.http.tls.cert_pem", "channel.proxy.sub_refresh.http.tls.client_ca_pem",
    "channel.proxy.sub_refresh.http.tls.enabled", "channel.proxy.sub_refresh.http.tls.insecure_skip_verify",
    "channel.proxy.sub_refresh.http.tls.key_pem", "channel.proxy.sub_refresh.http.tls.server_ca_pem",
    "channel.proxy.sub_refresh.http.tls.server_name", "channel.proxy.sub_refresh.http_headers",
    "channel.proxy.sub_refresh.include_connection_meta", "channel.proxy.sub_refresh.timeout",
    "channel.proxy.subscribe.binary_encoding", "channel.proxy.subscribe.emulated_headers",
    "channel.proxy.subscribe.endpoint", "channel.proxy.subscribe.grpc.compression",
    "channel.proxy.subscribe.grpc.credentials_key", "channel.proxy.subscribe.grpc.credentials_value",
    "channel.proxy.subscribe.grpc.static_metadata", "channel.proxy.subscribe.grpc.tls.cert_pem",
    "channel.proxy.subscribe.grpc.tls.client_ca_pem", "channel.proxy.subscribe.grpc.tls.enabled",
    "channel.proxy.subscribe.grpc.tls.insecure_skip_verify", "channel.proxy.subscribe.grpc.tls.key_pem",
    "channel.proxy.subscribe.grpc.tls.server_ca_pem", "channel.proxy.subscribe.grpc.tls.server_name",
    "channel.proxy.subscribe.grpc_metadata", "channel.proxy.subscribe.http.static_headers",
    "channel.proxy.subscribe.http.status_to_code_transforms",
    "channel.proxy.subscribe.http.status_to_code_transforms[].status_code",
    "channel.proxy.subscribe.http.status_to_code_transforms[].to_disconnect.code",
    "channel.proxy.subscribe.http.status_to_code_transforms[].to_disconnect.reason",
    "channel.proxy.subscribe.http.status_to_code_transforms[].to_error.code",
    "channel.proxy.subscribe.http.status_to_code_transforms[].to_error.message",
    "channel.proxy.subscribe.http.status_to_code_transforms[].to_error.temporary",
    "channel.proxy.subscribe.http.tls.cert_pem", "channel.proxy.subscribe.http.tls.client_ca_pem",
    "channel.proxy.subscribe.http.tls.enabled", "channel.proxy.subscribe.http.tls.insecure_skip_verify",
    "channel.proxy.subscribe.http.tls.key_pem", "channel.proxy.subscribe.http.tls.server_ca_pem",
    "channel.proxy.subscribe.http.tls.server_name", "channel.proxy.subscribe.http_headers",
    "channel.proxy.subscribe.include_connection_meta", "channel.proxy.subscribe.timeout",
    "channel.proxy.subscribe_stream.binary_encoding", "channel.proxy.subscribe_stream.emulated_headers",
    "channel.proxy.subscribe_stream.endpoint", "channel.proxy.subscribe_stream.grpc.compression",
    "channel.proxy.subscribe_stream.grpc.credentials_key", "channel.proxy.subscribe_stream.grpc.credentials_value",
    "channel.proxy.subscribe_stream.grpc.static_metadata", "channel.proxy.subscribe_stream.grpc.tls.cert_pem",
    "channel.proxy.subscribe_stream.grpc.tls.client_ca_pem", "channel.proxy.subscribe_stream.grpc.tls.enabled",
    "channel.proxy.subscribe_stream.grpc.tls.insecure_skip_verify", "channel.proxy.subscribe_stream.grpc.tls.key_pem",
    "channel.proxy.subscribe_stream.grpc.tls.server_ca_pem", "channel.proxy.subscribe_stream.grpc.tls.server_name",
    "channel.proxy.subscribe_stream.grpc_metadata", "channel.proxy.subscribe_stream.http.static_headers",
    "channel.proxy.subscribe_stream.http.status_to_code_transforms",
    "channel.proxy.subscribe_stream.http.status_to_code_transforms[].status_code",
    "channel.proxy.subscribe_stream.http.status_to_code_transforms[].to_disconnect.code",
    "channel.proxy.subscribe_stream.http.status_to_code_transforms[].to_disconnect.reason",
    "channel.proxy.subscribe_stream.http.status_to_code_transforms[].to_error.code",
    "channel.proxy.subscribe_stream.http.status_to_code_transforms[].to_error.message",
    "channel.proxy.subscribe_stream.http.status_to_code_transforms[].to_error.temporary",
    "channel.proxy.subscribe_stream.http.tls.cert_pem", "channel.proxy.subscribe_stream.http.tls.client_ca_pem",
    "channel.proxy.subscribe_stream.http.tls.enabled", "channel.proxy.subscribe_stream.http.tls.insecure_skip_verify",
    "channel.proxy.subscribe_stream.http.tls.key_pem", "channel.proxy.subscribe_stream.http.tls.server_ca_pem",
    "channel.proxy.subscribe_stream.http.tls.server_name", "channel.proxy.subscribe_stream.http_headers",
    "channel.proxy.subscribe_stream.include_connection_meta", "channel.proxy.subscribe_stream.timeout",
    "channel.publication_data_format", "channel.user_boundary", "channel.user_separator",
    "channel.without_namespace.allow_history_for_anonymous", "channel.without_namespace.allow_history_for_client",
    "channel.without_namespace.allow_history_for_subscriber", "channel.without_namespace.allow_positioning",
    "channel.without_namespace.allow_presence_for_anonymous", "channel.without_namespace.allow_presence_for_client",
    "channel.without_namespace.allow_presence_for_subscriber", "channel.without_namespace.allow_publish_for_anonymous",
    "channel.without_namespace.allow_publish_for_client", "channel.without_namespace.allow_publish_for_subscriber",
    "channel.without_namespace.allow_recovery", "channel.without_namespace.allow_subscribe_for_anonymous",
    "channel.without_namespace.allow_subscribe_for_client", "channel.without_namespace.allow_tags_filter",
    "channel.without_namespace.allow_user_limited_channels", "channel.without_namespace.allowed_delta_types",
    "channel.without_namespace.auto_cache_recover", "channel.without_namespace.channel_regex",
    "channel.without_namespace.delta_publish", "channel.without_namespace.force_positioning",
    "channel.without_namespace.force_push_join_leave", "channel.without_namespace.force_recovery",
    "channel.without_namespace.force_recovery_mode", "channel.without_namespace.history_meta_ttl",
    "channel.without_namespace.history_size", "channel.without_namespace.history_ttl",
    "channel.without_namespace.join_leave", "channel.without_namespace.map.allow_publish_for_anonymous",
    "channel.without_namespace.map.allow_publish_for_client",
    "channel.without_namespace.map.allow_publish_for_subscriber",
    "channel.without_namespace.map.allow_remove_for_anonymous", "channel.without_namespace.map.allow_remove_for_client",
    "channel.without_namespace.map.allow_remove_for_subscriber", "channel.without_namespace.map.client_key",
    "channel.without_namespace.map.default_page_size", "channel.without_namespace.map.key_ttl",
    "channel.without_namespace.map.live_transition_max_publication_limit",
    "channel.without_namespace.map.max_page_size", "channel.without_namespace.map.meta_ttl",
    "channel.without_namespace.map.min_page_size", "channel.without_namespace.map.mode",
    "channel.without_namespace.map.publish_proxy_enabled", "channel.without_namespace.map.publish_proxy_name",
    "channel.without_namespace.map.remove_client_on_unsubscribe", "channel.without_namespace.map.remove_proxy_enabled",
    "channel.without_namespace.map.remove_proxy_name", "channel.without_namespace.map.stream_size",
    "channel.without_namespace.map.stream_ttl", "channel.without_namespace.map.subscribe_catch_up_timeout",
    "channel.without_namespace.map_clients_presence_channel_prefix",
    "channel.without_namespace.map_users_presence_channel_prefix", "channel.without_namespace.presence",
    "channel.without_namespace.publication_data_format", "channel.without_namespace.publish_proxy_enabled",
    "channel.without_namespace.publish_proxy_name", "channel.without_namespace.shared_poll.channel_shutdown_delay",
    "channel.without_namespace.shared_poll.max_keys_per_connection", "channel.without_namespace.shared_poll.mode",
    "channel.without_namespace.shared_poll.proxy_name", "channel.without_namespace.shared_poll.publish_enabled",
    "channel.without_namespace.shared_poll.refresh_batch_size",
    "channel.without_namespace.shared_poll.refresh_interval",
    "channel.without_namespace.shared_poll.track_expired_extra_delay",
    "channel.without_namespace.sub_refresh_proxy_enabled", "channel.without_namespace.sub_refresh_proxy_name",
    "channel.without_namespace.subscribe_proxy_enabled", "channel.without_namespace.subscribe_proxy_name",
    "channel.without_namespace.subscribe_stream_proxy_bidirectional",
    "channel.without_namespace.subscribe_stream_proxy_enabled", "channel.without_namespace.subscribe_stream_proxy_name",
    "channel.without_namespace.subscription_type", "client.allow_anonymous_connect_without_token",
    "client.allowed_origins", "client.channel_limit", "client.channel_position_check_delay",
    "client.channel_position_max_time_lag", "client.concurrency",
    "client.connect_code_to_unidirectional_disconnect.enabled",
    "client.connect_code_to_unidirectional_disconnect.transforms",
    "client.connect_code_to_unidirectional_disconnect.transforms[].code",
    "client.connect_code_to_unidirectional_disconnect.transforms[].to.code",
    "client.connect_code_to_unidirectional_disconnect.transforms[].to.reason", "client.connect_include_server_time",
    "client.connection_limit", "client.connection_rate_limit", "client.disallow_anonymous_connection_tokens",
    "client.expired_close_delay", "client.expired_sub_close_delay", "client.history_max_publication_limit",
    "client.insecure", "client.insecure_skip_token_signature_verify", "client.ping_interval", "client.pong_timeout",
    "client.presence_update_interval", "client.proxy.connect.binary_encoding", "client.proxy.connect.emulated_headers",
    "client.proxy.connect.enabled", "client.proxy.connect.endpoint", "client.proxy.connect.grpc.compression",
    "client.proxy.connect.grpc.credentials_key", "client.proxy.connect.grpc.credentials_value",
    "client.proxy.connect.grpc.static_metadata", "client.proxy.connect.grpc.tls.cert_pem",
    "client.proxy.connect.grpc.tls.client_ca_pem", "client.proxy.connect.grpc.tls.enabled",
    "client.proxy.connect.grpc.tls.insecure_skip_verify", "client.proxy.connect.grpc.tls.key_pem",
    "client.proxy.connect.grpc.tls.server_ca_pem", "client.proxy.connect.grpc.tls.server_name",
    "client.proxy.connect.grpc_metadata", "client.proxy.connect.http.static_headers",
    "client.proxy.connect.http.status_to_code_transforms",
    "client.proxy.connect.http.status_to_code_transforms[].status_code",
    "client.proxy.connect.http.status_to_code_transforms[].to_disconnect.code",
    "client.proxy.connect.http.status_to_code_transforms[].to_disconnect.reason",
    "client.proxy.connect.http.status_to_code_transforms[].to_error.code",
    "client.proxy.connect.http.status_to_code_transforms[].to_error.message",
    "client.proxy.connect.http.status_to_code_transforms[].to_error.temporary",
    "client.proxy.connect.http.tls.cert_pem", "client.proxy.connect.http.tls.client_ca_pem",
    "client.proxy.connect.http.tls.enabled", "client.proxy.connect.http.tls.insecure_skip_verify",
    "client.proxy.connect.http.tls.key_pem", "client.proxy.connect.http.tls.server_ca_pem",
    "client.proxy.connect.http.tls.server_name", "client.proxy.connect.http_headers",
    "client.proxy.connect.include_connection_meta", "client.proxy.connect.timeout",
    "client.proxy.refresh.binary_encoding", "client.proxy.refresh.emulated_headers", "client.proxy.refresh.enabled",
    "client.proxy.refresh.endpoint", "client.proxy.refresh.grpc.compression",
    "client.proxy.refresh.grpc.credentials_key", "client.proxy.refresh.grpc.credentials_value",
    "client.proxy.refresh.grpc.static_metadata", "client.proxy.refresh.grpc.tls.cert_pem",
    "client.proxy.refresh.grpc.tls.client_ca_pem", "client.proxy.refresh.grpc.tls.enabled",
    "client.proxy.refresh.grpc.tls.insecure_skip_verify", "client.proxy.refresh.grpc.tls.key_pem",
    "client.proxy.refresh.grpc.tls.server_ca_pem", "client.proxy.refresh.grpc.tls.server_name",
    "client.proxy.refresh.grpc_metadata", "client.proxy.refresh.http.static_headers",
    "client.proxy.refresh.http.status_to_code_transforms",
    "client.proxy.refresh.http.status_to_code_transforms[].status_code",
    "client.proxy.refresh.http.status_to_code_transforms[].to_disconnect.code",
    "client.proxy.refresh.http.status_to_code_transforms[].to_disconnect.reason",
    "client.proxy.refresh.http.status_to_code_transforms[].to_error.code",
    "client.proxy.refresh.http.status_to_code_transforms[].to_error.message",
    "client.proxy.refresh.http.status_to_code_transforms[].to_error.temporary",
    "client.proxy.refresh.http.tls.cert_pem", "client.proxy.refresh.http.tls.client_ca_pem",
    "client.proxy.refresh.http.tls.enabled", "client.proxy.refresh.http.tls.insecure_skip_verify",
    "client.proxy.refresh.http.tls.key_pem", "client.proxy.refresh.http.tls.server_ca_pem",
    "client.proxy.refresh.http.tls.server_name", "client.proxy.refresh.http_headers",
    "client.proxy.refresh.include_connection_meta", "client.proxy.refresh.timeout", "client.queue_max_size",
    "client.recovery_max_publication_limit", "client.stale_close_delay",
    "client.subscribe_to_user_personal_channel.enabled",
    "client.subscribe_to_user_personal_channel.personal_channel_namespace",
    "client.subscribe_to_user_personal_channel.single_connection", "client.subscription_token.audience",
    "client.subscription_token.audience_regex", "client.subscription_token.ecdsa_public_key",
    "client.subscription_token.enabled", "client.subscription_token.hmac_previous_secret_key",
    "client.subscription_token.hmac_previous_secret_key_valid_until", "client.subscription_token.hmac_secret_key",
    "client.subscription_token.insecure_skip_jwks_endpoint_safety_check", "client.subscription_token.issuer",
    "client.subscription_token.issuer_regex", "client.subscription_token.jwks_public_endpoint",
    "client.subscription_token.rsa_public_key", "client.subscription_token.user_id_claim", "client.token.audience",
    "client.token.audience_regex", "client.token.ecdsa_public_key", "client.token.hmac_previous_secret_key",
    "client.token.hmac_previous_secret_key_valid_until", "client.token.hmac_secret_key",
    "client.token.insecure_skip_jwks_endpoint_safety_check", "client.token.issuer", "client.token.issuer_regex",
    "client.token.jwks_public_endpoint", "client.token.rsa_public_key", "client.token.user_id_claim",
    "client.user_connection_limit", "client.user_id_http_header", "consumers", "consumers[].aws_sqs.assume_role_arn",
    "consumers[].aws_sqs.credentials_profile", "consumers[].aws_sqs.localstack_endpoint",
    "consumers[].aws_sqs.max_concurrency", "consumers[].aws_sqs.max_number_of_messages",
    "consumers[].aws_sqs.method_attribute", "consumers[].aws_sqs.publication_data_mode.channels_attribute",
    "consumers[].aws_sqs.publication_data_mode.delta_attribute", "consumers[].aws_sqs.publication_data_mode.enabled",
    "consumers[].aws_sqs.publication_data_mode.idempotency_key_attribute",
    "consumers[].aws_sqs.publication_data_mode.tags_attribute_prefix",
    "consumers[].aws_sqs.publication_data_mode.version_attribute",
    "consumers[].aws_sqs.publication_data_mode.version_epoch_attribute", "consumers[].aws_sqs.queues",
    "consumers[].aws_sqs.region", "consumers[].aws_sqs.sns_envelope", "consumers[].aws_sqs.visibility_timeout",
    "consumers[].aws_sqs.wait_time_time", "consumers[].azure_service_bus.client_id",
    "consumers[].azure_service_bus.client_secret", "consumers[].azure_service_bus.connection_string",
    "consumers[].azure_service_bus.fully_qualified_namespace", "consumers[].azure_service_bus.max_concurrent_calls",
    "consumers[].azure_service_bus.max_receive_messages", "consumers[].azure_service_bus.method_property",
    "consumers[].azure_service_bus.publication_data_mode.channels_property",
    "consumers[].azure_service_bus.publication_data_mode.delta_property",
    "consumers[].azure_service_bus.publication_data_mode.enabled",
    "consumers[].azure_service_bus.publication_data_mode.idempotency_key_property",
    "consumers[].azure_service_bus.publication_data_mode.tags_property_prefix",
    "consumers[].azure_service_bus.publication_data_mode.version_epoch_property",
    "consumers[].azure_service_bus.publication_data_mode.version_property", "consumers[].azure_service_bus.queues",
    "consumers[].azure_service_bus.tenant_id", "consumers[].azure_service_bus.use_azure_identity",
    "consumers[].azure_service_bus.use_sessions", "consumers[].enabled", "consumers[].google_pub_sub.auth_mechanism",
    "consumers[].google_pub_sub.credentials_file", "consumers[].google_pub_sub.max_outstanding_bytes",
    "consumers[].google_pub_sub.max_outstanding_messages", "consumers[].google_pub_sub.method_attribute",
    "consumers[].google_pub_sub.project_id", "consumers[].google_pub_sub.publication_data_mode.channels_attribute",
    "consumers[].google_pub_sub.publication_data_mode.delta_attribute",
    "consumers[].google_pub_sub.publication_data_mode.enabled",
    "consumers[].google_pub_sub.publication_data_mode.idempotency_key_attribute",
    "consumers[].google_pub_sub.publication_data_mode.tags_attribute_prefix",
    "consumers[].google_pub_sub.publication_data_mode.version_attribute",
    "consumers[].google_pub_sub.publication_data_mode.version_epoch_attribute",
    "consumers[].google_pub_sub.subscriptions", "consumers[].kafka.assume_role_arn", "consumers[].kafka.brokers",
    "consumers[].kafka.consumer_group", "consumers[].kafka.dial_timeout", "consumers[].kafka.fetch_max_bytes",
    "consumers[].kafka.fetch_max_wait", "consumers[].kafka.fetch_read_uncommitted", "consumers[].kafka.instance_id",
    "consumers[].kafka.max_poll_records", "consumers[].kafka.method_header",
    "consumers[].kafka.partition_queue_max_size", "consumers[].kafka.publication_data_mode.channels_header",
    "consumers[].kafka.publication_data_mode.delta_header", "consumers[].kafka.publication_data_mode.enabled",
    "consumers[].kafka.publication_data_mode.idempotency_key_header",
    "consumers[].kafka.publication_data_mode.tags_header_prefix",
    "consumers[].kafka.publication_data_mode.version_epoch_header",
    "consumers[].kafka.publication_data_mode.version_header", "consumers[].kafka.sasl_mechanism",
    "consumers[].kafka.sasl_password", "consumers[].kafka.sasl_user", "consumers[].kafka.tls.cert_pem",
    "consumers[].kafka.tls.client_ca_pem", "consumers[].kafka.tls.enabled",
    "consumers[].kafka.tls.insecure_skip_verify", "consumers[].kafka.tls.key_pem",
    "consumers[].kafka.tls.server_ca_pem", "consumers[].kafka.tls.server_name", "consumers[].kafka.topics",
    "consumers[].name", "consumers[].nats_jetstream.credentials_file", "consumers[].nats_jetstream.deliver_policy",
    "consumers[].nats_jetstream.durable_consumer_name", "consumers[].nats_jetstream.max_ack_pending",
    "consumers[].nats_jetstream.method_header", "consumers[].nats_jetstream.password",
    "consumers[].nats_jetstream.publication_data_mode.channels_header",
    "consumers[].nats_jetstream.publication_data_mode.delta_header",
    "consumers[].nats_jetstream.publication_data_mode.enabled",
    "consumers[].nats_jetstream.publication_data_mode.idempotency_key_header",
    "consumers[].nats_jetstream.publication_data_mode.tags_header_prefix",
    "consumers[].nats_jetstream.publication_data_mode.version_epoch_header",
    "consumers[].nats_jetstream.publication_data_mode.version_header", "consumers[].nats_jetstream.stream_name",
    "consumers[].nats_jetstream.subjects", "consumers[].nats_jetstream.tls.cert_pem",
    "consumers[].nats_jetstream.tls.client_ca_pem", "consumers[].nats_jetstream.tls.enabled",
    "consumers[].nats_jetstream.tls.insecure_skip_verify", "consumers[].nats_jetstream.tls.key_pem",
    "consumers[].nats_jetstream.tls.server_ca_pem", "consumers[].nats_jetstream.tls.server_name",
    "consumers[].nats_jetstream.token", "consumers[].nats_jetstream.url",
    "consumers[].nats_jetstream.use_existing_consumer", "consumers[].nats_jetstream.username",
    "consumers[].postgresql.dsn", "consumers[].postgresql.num_partitions", "consumers[].postgresql.outbox_table_name",
    "consumers[].postgresql.partition_notification_channel", "consumers[].postgresql.partition_notification_dsn",
    "consumers[].postgresql.partition_poll_interval", "consumers[].postgresql.partition_select_limit",
    "consumers[].postgresql.tls.cert_pem", "consumers[].postgresql.tls.client_ca_pem",
    "consumers[].postgresql.tls.enabled", "consumers[].postgresql.tls.insecure_skip_verify",
    "consumers[].postgresql.tls.key_pem", "consumers[].postgresql.tls.server_ca_pem",
    "consumers[].postgresql.tls.server_name", "consumers[].postgresql.use_try_lock", "consumers[].redis_stream.address",
    "consumers[].redis_stream.client_name", "consumers[].redis_stream.cluster_address",
    "consumers[].redis_stream.connect_timeout", "consumers[].redis_stream.consumer_group",
    "consumers[].redis_stream.db", "consumers[].redis_stream.force_resp2", "consumers[].redis_stream.io_timeout",
    "consumers[].redis_stream.method_value", "consumers[].redis_stream.num_workers",
    "consumers[].redis_stream.password", "consumers[].redis_stream.payload_value",
    "consumers[].redis_stream.publication_data_mode.channels_value",
    "consumers[].redis_stream.publication_data_mode.delta_value",
    "consumers[].redis_stream.publication_data_mode.enabled",
    "consumers[].redis_stream.publication_data_mode.idempotency_key_value",
    "consumers[].redis_stream.publication_data_mode.tags_value_prefix",
    "consumers[].redis_stream.publication_data_mode.version_epoch_value",
    "consumers[].redis_stream.publication_data_mode.version_value", "consumers[].redis_stream.replica_client.enabled",
    "consumers[].redis_stream.sentinel_address", "consumers[].redis_stream.sentinel_client_name",
    "consumers[].redis_stream.sentinel_master_name", "consumers[].redis_stream.sentinel_password",
    "consumers[].redis_stream.sentinel_tls.cert_pem", "consumers[].redis_stream.sentinel_tls.client_ca_pem",
    "consumers[].redis_stream.sentinel_tls.enabled", "consumers[].redis_stream.sentinel_tls.insecure_skip_verify",
    "consumers[].redis_stream.sentinel_tls.key_pem", "consumers[].redis_stream.sentinel_tls.server_ca_pem",
    "consumers[].redis_stream.sentinel_tls.server_name", "consumers[].redis_stream.sentinel_user",
    "consumers[].redis_stream.streams", "consumers[].redis_stream.tls.cert_pem",
    "consumers[].redis_stream.tls.client_ca_pem", "consumers[].redis_stream.tls.enabled",
    "consumers[].redis_stream.tls.insecure_skip_verify", "consumers[].redis_stream.tls.key_pem",
    "consumers[].redis_stream.tls.server_ca_pem", "consumers[].redis_stream.tls.server_name",
    "consumers[].redis_stream.user", "consumers[].redis_stream.visibility_timeout", "consumers[].type",
    "controller.enabled", "controller.postgres.batch_size", "controller.postgres.dsn", "controller.postgres.notify_dsn",
    "controller.postgres.num_shards", "controller.postgres.partition_cleanup_interval",
    "controller.postgres.partition_lookahead_days", "controller.postgres.partition_retention_days",
    "controller.postgres.poll_interval", "controller.postgres.pool_size", "controller.postgres.skip_schema_init",
    "controller.postgres.table_prefix", "controller.postgres.tls.cert_pem", "controller.postgres.tls.client_ca_pem",
    "controller.postgres.tls.enabled", "controller.postgres.tls.insecure_skip_verify",
    "controller.postgres.tls.key_pem", "controller.postgres.tls.server_ca_pem", "controller.postgres.tls.server_name",
    "controller.postgres.use_notify", "controller.type", "debug.enabled", "debug.handler_prefix",
    "emulation.handler_prefix", "emulation.max_request_body_size", "enable_unreleased_features", "engine.redis.address",
    "engine.redis.client_name", "engine.redis.cluster_address", "engine.redis.connect_timeout", "engine.redis.db",
    "engine.redis.force_resp2", "engine.redis.history_use_lists", "engine.redis.io_timeout", "engine.redis.password",
    "engine.redis.prefix", "engine.redis.presence_hash_field_ttl", "engine.redis.presence_ttl",
    "engine.redis.presence_user_mapping", "engine.redis.replica_client.enabled", "engine.redis.sentinel_address",
    "engine.redis.sentinel_client_name", "engine.redis.sentinel_master_name", "engine.redis.sentinel_password",
    "engine.redis.sentinel_tls.cert_pem", "engine.redis.sentinel_tls.client_ca_pem",
    "engine.redis.sentinel_tls.enabled", "engine.redis.sentinel_tls.insecure_skip_verify",
    "engine.redis.sentinel_tls.key_pem", "engine.redis.sentinel_tls.server_ca_pem",
    "engine.redis.sentinel_tls.server_name", "engine.redis.sentinel_user", "engine.redis.tls.cert_pem",
    "engine.redis.tls.client_ca_pem", "engine.redis.tls.enabled", "engine.redis.tls.insecure_skip_verify",
    "engine.redis.tls.key_pem", "engine.redis.tls.server_ca_pem", "engine.redis.tls.server_name", "engine.redis.user",
    "engine.type", "graphite.enabled", "graphite.host", "graphite.interval", "graphite.port", "graphite.prefix",
    "graphite.tags", "grpc_api.address", "grpc_api.enabled", "grpc_api.error_mode", "grpc_api.key",
    "grpc_api.max_receive_message_size", "grpc_api.port", "grpc_api.reflection", "grpc_api.tls.cert_pem",
    "grpc_api.tls.client_ca_pem", "grpc_api.tls.enabled", "grpc_api.tls.insecure_skip_verify", "grpc_api.tls.key_pem",
    "grpc_api.tls.server_ca_pem", "grpc_api.tls.server_name", "health.enabled", "health.handler_prefix",
    "http_api.disabled", "http_api.error_mode", "http_api.external", "http_api.handler_prefix", "http_api.insecure",
    "http_api.key", "http_server.address", "http_server.h2c_external", "http_server.http3.enabled",
    "http_server.internal_address", "http_server.internal_port", "http_server.internal_tls.cert_pem",
    "http_server.internal_tls.client_ca_pem", "http_server.internal_tls.enabled",
    "http_server.internal_tls.insecure_skip_verify", "http_server.internal_tls.key_pem",
    "http_server.internal_tls.server_ca_pem", "http_server.internal_tls.server_name", "http_server.port",
    "http_server.tls.cert_pem", "http_server.tls.client_ca_pem", "http_server.tls.enabled",
    "http_server.tls.insecure_skip_verify", "http_server.tls.key_pem", "http_server.tls.server_ca_pem",
    "http_server.tls.server_name", "http_server.tls_autocert.cache_dir", "http_server.tls_autocert.email",
    "http_server.tls_autocert.enabled", "http_server.tls_autocert.host_whitelist", "http_server.tls_autocert.http",
    "http_server.tls_autocert.http_addr", "http_server.tls_autocert.server_name", "http_server.tls_external",
    "http_stream.enabled", "http_stream.handler_prefix", "http_stream.max_request_body_size", "init.enabled",
    "init.handler_prefix", "log.file", "log.level", "map_broker.postgres.binary_data",
    "map_broker.postgres.cleanup_interval", "map_broker.postgres.dsn", "map_broker.postgres.idempotent_result_ttl",
    "map_broker.postgres.notify_dsn", "map_broker.postgres.num_shards", "map_broker.postgres.outbox.batch_size",
    "map_broker.postgres.outbox.poll_interval", "map_broker.postgres.partition_lookahead_days",
    "map_broker.postgres.partition_retention_days", "map_broker.postgres.pool_size",
    "map_broker.postgres.skip_schema_init", "map_broker.postgres.stream_retention", "map_broker.postgres.table_prefix",
    "map_broker.postgres.tls.cert_pem", "map_broker.postgres.tls.client_ca_pem", "map_broker.postgres.tls.enabled",
    "map_broker.postgres.tls.insecure_skip_verify", "map_broker.postgres.tls.key_pem",
    "map_broker.postgres.tls.server_ca_pem", "map_broker.postgres.tls.server_name",
    "map_broker.postgres.ttl_check_interval", "map_broker.postgres.use_notify", "map_broker.redis.address",
    "map_broker.redis.cleanup_batch_size", "map_broker.redis.cleanup_interval", "map_broker.redis.client_name",
    "map_broker.redis.cluster_address", "map_broker.redis.connect_timeout", "map_broker.redis.db",
    "map_broker.redis.force_resp2", "map_broker.redis.idempotent_result_ttl", "map_broker.redis.io_timeout",
    "map_broker.redis.password", "map_broker.redis.prefix", "map_broker.redis.replica_client.enabled",
    "map_broker.redis.sentinel_address", "map_broker.redis.sentinel_client_name",
    "map_broker.redis.sentinel_master_name", "map_broker.redis.sentinel_password",
    "map_broker.redis.sentinel_tls.cert_pem", "map_broker.redis.sentinel_tls.client_ca_pem",
    "map_broker.redis.sentinel_tls.enabled", "map_broker.redis.sentinel_tls.insecure_skip_verify",
    "map_broker.redis.sentinel_tls.key_pem", "map_broker.redis.sentinel_tls.server_ca_pem",
    "map_broker.redis.sentinel_tls.server_name", "map_broker.redis.sentinel_user", "map_broker.redis.skip_pub_sub",
    "map_broker.redis.tls.cert_pem", "map_broker.redis.tls.client_ca_pem", "map_broker.redis.tls.enabled",
    "map_broker.redis.tls.insecure_skip_verify", "map_broker.redis.tls.key_pem", "map_broker.redis.tls.server_ca_pem",
    "map_broker.redis.tls.server_name", "map_broker.redis.user", "map_broker.type",
    "node.info_metrics_aggregate_interval", "node.name", "opentelemetry.api", "opentelemetry.consuming",
    "opentelemetry.enabled", "opentelemetry.google_cloud_adc_auth", "pid_file", "presence_manager.enabled",
    "presence_manager.redis.address", "presence_manager.redis.client_name", "presence_manager.redis.cluster_address",
    "presence_manager.redis.connect_timeout", "presence_manager.redis.db", "presence_manager.redis.force_resp2",
    "presence_manager.redis.io_timeout", "presence_manager.redis.password", "presence_manager.redis.prefix",
    "presence_manager.redis.presence_hash_field_ttl", "presence_manager.redis.presence_ttl",
    "presence_manager.redis.presence_user_mapping", "presence_manager.redis.replica_client.enabled",
    "presence_manager.redis.sentinel_address", "presence_manager.redis.sentinel_client_name",
    "presence_manager.redis.sentinel_master_name", "presence_manager.redis.sentinel_password",
    "presence_manager.redis.sentinel_tls.cert_pem", "presence_manager.redis.sentinel_tls.client_ca_pem",
    "presence_manager.redis.sentinel_tls.enabled", "presence_manager.redis.sentinel_tls.insecure_skip_verify",
    "presence_manager.redis.sentinel_tls.key_pem", "presence_manager.redis.sentinel_tls.server_ca_pem",
    "presence_manager.redis.sentinel_tls.server_name", "presence_manager.redis.sentinel_user",
    "presence_manager.redis.tls.cert_pem", "presence_manager.redis.tls.client_ca_pem",
    "presence_manager.redis.tls.enabled", "presence_manager.redis.tls.insecure_skip_verify",
    "presence_manager.redis.tls.key_pem", "presence_manager.redis.tls.server_ca_pem",
    "presence_manager.redis.tls.server_name", "presence_manager.redis.user", "presence_manager.type",
    "prometheus.enabled", "prometheus.handler_prefix", "prometheus.instrument_http_handlers",
    "prometheus.native_histograms", "prometheus.recovered_publications_histogram", "proxies",
    "proxies[].binary_encoding", "proxies[].emulated_headers", "proxies[].endpoint", "proxies[].grpc.compression",
    "proxies[].grpc.credentials_key", "proxies[].grpc.credentials_value", "proxies[].grpc.static_metadata",
    "proxies[].grpc.tls.cert_pem", "proxies[].grpc.tls.client_ca_pem", "proxies[].grpc.tls.enabled",
    "proxies[].grpc.tls.insecure_skip_verify", "proxies[].grpc.tls.key_pem", "proxies[].grpc.tls.server_ca_pem",
    "proxies[].grpc.tls.server_name", "proxies[].grpc_metadata", "proxies[].http.static_headers",
    "proxies[].http.status_to_code_transforms", "proxies[].http.status_to_code_transforms[].status_code",
    "proxies[].http.status_to_code_transforms[].to_disconnect.code",
    "proxies[].http.status_to_code_transforms[].to_disconnect.reason",
    "proxies[].http.status_to_code_transforms[].to_error.code",
    "proxies[].http.status_to_code_transforms[].to_error.message",
    "proxies[].http.status_to_code_transforms[].to_error.temporary", "proxies[].http.tls.cert_pem",
    "proxies[].http.tls.client_ca_pem", "proxies[].http.tls.enabled", "proxies[].http.tls.insecure_skip_verify",
    "proxies[].http.tls.key_pem", "proxies[].http.tls.server_ca_pem", "proxies[].http.tls.server_name",
    "proxies[].http_headers", "proxies[].include_connection_meta", "proxies[].name", "proxies[].timeout",
    "rpc.namespace_boundary", "rpc.namespaces", "rpc.namespaces[].name", "rpc.namespaces[].proxy_enabled",
    "rpc.namespaces[].proxy_name", "rpc.ping.enabled", "rpc.ping.method", "rpc.proxy.binary_encoding",
    "rpc.proxy.emulated_headers", "rpc.proxy.endpoint", "rpc.proxy.grpc.compression", "rpc.proxy.grpc.credentials_key",
    "rpc.proxy.grpc.credentials_value", "rpc.proxy.grpc.static_metadata", "rpc.proxy.grpc.tls.cert_pem",
    "rpc.proxy.grpc.tls.client_ca_pem", "rpc.proxy.grpc.tls.enabled", "rpc.proxy.grpc.tls.insecure_skip_verify",
    "rpc.proxy.grpc.tls.key_pem", "rpc.proxy.grpc.tls.server_ca_pem", "rpc.proxy.grpc.tls.server_name",
    "rpc.proxy.grpc_metadata", "rpc.proxy.http.static_headers", "rpc.proxy.http.status_to_code_transforms",
    "rpc.proxy.http.status_to_code_transforms[].status_code",
    "rpc.proxy.http.status_to_code_transforms[].to_disconnect.code",
    "rpc.proxy.http.status_to_code_transforms[].to_disconnect.reason",
    "rpc.proxy.http.status_to_code_transforms[].to_error.code",
    "rpc.proxy.http.status_to_code_transforms[].to_error.message",
    "rpc.proxy.http.status_to_code_transforms[].to_error.temporary", "rpc.proxy.http.tls.cert_pem",
    "rpc.proxy.http.tls.client_ca_pem", "rpc.proxy.http.tls.enabled", "rpc.proxy.http.tls.insecure_skip_verify",
    "rpc.proxy.http.tls.key_pem", "rpc.proxy.http.tls.server_ca_pem", "rpc.proxy.http.tls.server_name",
    "rpc.proxy.http_headers", "rpc.proxy.include_connection_meta", "rpc.proxy.timeout",
    "rpc.without_namespace.proxy_enabled", "rpc.without_namespace.proxy_name", "shared_poll.concurrency_limit",
    "shared_poll.hmac_previous_secret_key", "shared_poll.hmac_previous_secret_key_valid_until",
    "shared_poll.hmac_secret_key", "shutdown.timeout", "sse.enabled", "sse.handler_prefix", "sse.max_request_body_size",
    "swagger.enabled", "swagger.handler_prefix", "uni_grpc.address", "uni_grpc.enabled",
    "uni_grpc.max_receive_message_size", "uni_grpc.port", "uni_grpc.tls.cert_pem", "uni_grpc.tls.client_ca_pem",
    "uni_grpc.tls.enabled", "uni_grpc.tls.insecure_skip_verify", "uni_grpc.tls.key_pem", "uni_grpc.tls.server_ca_pem",
    "uni_grpc.tls.server_name", "uni_http_stream.connect_code_to_http_response.enabled",
    "uni_http_stream.connect_code_to_http_response.transforms",
    "uni_http_stream.connect_code_to_http_response.transforms[].code",
    "uni_http_stream.connect_code_to_http_response.transforms[].to.body",
    "uni_http_stream.connect_code_to_http_response.transforms[].to.status_code", "uni_http_stream.enabled",
    "uni_http_stream.handler_prefix", "uni_http_stream.max_request_body_size",
    "uni_sse.connect_code_to_http_response.enabled", "uni_sse.connect_code_to_http_response.transforms",
    "uni_sse.connect_code_to_http_response.transforms[].code",
    "uni_sse.connect_code_to_http_response.transforms[].to.body",
    "uni_sse.connect_code_to_http_response.transforms[].to.status_code", "uni_sse.enabled", "uni_sse.handler_prefix",
    "uni_sse.max_request_body_size", "uni_websocket.compression", "uni_websocket.compression_level",
    "uni_websocket.compression_min_size", "uni_websocket.decompressed_message_size_limit",
    "uni_websocket.disable_closing_handshake", "uni_websocket.disable_disconnect_push", "uni_websocket.enabled",
    "uni_websocket.handler_prefix", "uni_websocket.join_push_messages", "uni_websocket.message_size_limit",
    "uni_websocket.read_buffer_size", "uni_websocket.use_write_buffer_pool", "uni_websocket.write_buffer_size",
    "uni_websocket.write_timeout", "usage_stats.disabled", "websocket.compression", "websocket.compression_level",
    "websocket.compression_min_size", "websocket.decompressed_message_size_limit", "websocket.disabled",
    "websocket.handler_prefix", "websocket.message_size_limit", "websocket.read_buffer_size",
    "websocket.use_write_buffer_pool", "websocket.write_buffer_size", "websocket.write_timeout", "webtransport.enabled",
    "webtransport.handler_prefix", "webtransport.message_size_limit",
]

// MARK: - Known gaps

/// Centrifugo keys that are neither honoured, refused nor inert yet. The tests require the unclassified keys to be
/// exactly these, so a fix shows up as a failure here too: then remove the key from this set. Empty: every key of
/// Centrifugo v6's OSS config is honoured, refused when set, or inert by design.
private let knownGaps: Set<String> = []

// MARK: - Broker-only keys

/// Schema settings that are not Centrifugo v6 keys, on purpose.
private let brokerOnlySettings: Set<String> = {
    // A per-connection command rate limit (a guard against command floods).
    var paths: Set<String> = ["client.command_rate_limit"]
    // Replica acknowledgement of publishes (Redis WAIT), so an acknowledged publication survives a failover.
    paths.formUnion(["engine.redis.wait_replicas", "engine.redis.wait_timeout"])
    // PEM files for the client-side TLS objects (Redis and the proxies), next to the inline cert_pem, key_pem and
    // server_ca_pem that Centrifugo has.
    let proxies = [
        "client.proxy.connect", "client.proxy.refresh", "channel.proxy.subscribe", "channel.proxy.publish",
        "channel.proxy.sub_refresh", "channel.proxy.subscribe_stream", "rpc.proxy",
    ]
    let tlsClientObjects = ["engine.redis.tls", "engine.redis.sentinel_tls"] + proxies.flatMap { [$0 + ".http.tls", $0 + ".grpc.tls"] }
    for object in tlsClientObjects {
        for key in ["cert_pem_file", "key_pem_file", "server_ca_pem_file"] {
            paths.insert(object + "." + key)
        }
    }
    return paths
}()

// MARK: - Classification

private enum KeyClass: String, Sendable {
    case honoured, refused, inert
}

/// One object schema (the whole config, or one `channel.namespaces[]` entry) as sets of paths.
private struct SchemaPaths {
    /// Paths read by a setting that is not a refusal.
    let honoured: Set<String>
    let refused: Set<String>
    let isInert: (String) -> Bool

    init<Root>(_ schema: ConfigSchema<Root>, unsupported: [UnsupportedKey]) {
        let refused = Set(unsupported.compactMap { key -> String? in
            guard case .refused = key.rule else { return nil }
            return key.path
        })
        self.refused = refused
        honoured = Set(schema.settings.map(\.path)).subtracting(refused)
        isInert = { schema.isInert($0) }
    }

    /// A path without list elements: the setting at it, an inert path covering it, or a setting at one of its
    /// ancestors (which then reads the whole value, e.g. a list of transforms or the refused `consumers`).
    func classify(_ path: String) -> KeyClass? {
        if refused.contains(path) { return .refused }
        if honoured.contains(path) { return .honoured }
        if isInert(path) { return .inert }
        var ancestor = path
        while let dot = ancestor.lastIndex(of: ".") {
            ancestor = String(ancestor[..<dot])
            if refused.contains(ancestor) { return .refused }
            if honoured.contains(ancestor) { return .honoured }
        }
        return nil
    }
}

private struct Classifier {
    let schema = BrokerConfigSchema.config
    let config = SchemaPaths(BrokerConfigSchema.config, unsupported: UnsupportedKeys.config)
    let namespace = SchemaPaths(BrokerConfigSchema.namespace, unsupported: UnsupportedKeys.channelOptions)
    /// Lists whose elements the schema decodes key by key with a schema of its own that is not exposed: their
    /// element keys are classified by what decoding one element does with them.
    static let probedLists: Set<String> = ["proxies", "rpc.namespaces"]

    func classify(_ key: String) -> KeyClass? {
        guard let brackets = key.range(of: "[]") else { return config.classify(key) }
        let list = String(key[..<brackets.lowerBound])
        let element = String(key[brackets.upperBound...].dropFirst())  // without the "."
        switch config.classify(list) {
        case nil: return nil
        case .refused: return .refused  // a non-empty list is refused, whatever its elements hold
        case .inert: return .inert
        case .honoured:
            if list == "channel.namespaces" {
                return namespace.classify(element.components(separatedBy: "[]")[0])
            }
            if Self.probedLists.contains(list) {
                return probe(key, in: schema).decoderClass
            }
            // Any other list is one setting's value, decoded whole (the transforms lists).
            return list.hasSuffix("transforms") ? .honoured : nil
        }
    }
}

// MARK: - Decoding probe

/// What decoding a config that sets one key (to an object no setting accepts) does with it.
private enum ProbeOutcome {
    /// A setting at the key, or at an ancestor that reads the whole value, rejected the value.
    case read(ConfigError)
    /// The key (or an ancestor) was reported as unknown.
    case unknown([String])
    /// Decoded without a word: an inert key.
    case silent
    /// An error naming another key.
    case other(ConfigError)

    /// The class the decoder's behaviour shows: refused and honoured keys both read the value, so the probe
    /// cannot tell them apart by the garbage value (refusals of switches fail on its type first).
    var decoderClass: KeyClass? {
        switch self {
        case .read(let error): return error.message.contains("not supported") ? .refused : .honoured
        case .silent: return .inert
        case .unknown, .other: return nil
        }
    }
}

private let probeValue = JSONValue.object(JSONObject([("__probe__", .number("1"))]))

/// `{"a":{"b":[{"name":"probe","c":value}]}}` for key `a.b[].c`: each list gets one element, named (namespaces,
/// proxies and RPC namespaces need a name; other lists ignore it).
private func document(setting key: String, to value: JSONValue) -> JSONValue {
    func build(_ segments: ArraySlice<Substring>) -> JSONValue {
        guard let first = segments.first else { return value }
        let rest = segments.dropFirst()
        if first.hasSuffix("[]") {
            let name = String(first.dropLast(2))
            var members: [(String, JSONValue)] = []
            if rest.first != "name" { members.append(("name", .string("probe"))) }
            if case .object(let inner) = build(rest) {
                members += inner.members.map { ($0.key, $0.value) }
            }
            return .object(JSONObject([(name, .array([.object(JSONObject(members))]))]))
        }
        return .object(JSONObject([(String(first), build(rest))]))
    }
    // "a.b[].c" → segments "a", "b[]", "c".
    return build(ArraySlice(key.split(separator: ".")))
}

/// The key as decoding names it: `channel.namespaces[0].presence`.
private func concretePath(_ key: String) -> String {
    key.replacingOccurrences(of: "[]", with: "[0]")
}

/// Whether `ancestor` is `path` or an object or list holding it.
private func covers(_ ancestor: String, _ path: String) -> Bool {
    ancestor == path || path.hasPrefix(ancestor + ".") || path.hasPrefix(ancestor + "[")
}

private func probe(_ key: String, in schema: ConfigSchema<BrokerConfig>) -> ProbeOutcome {
    guard case .object(let root) = document(setting: key, to: probeValue) else { return .silent }
    let path = concretePath(key)
    var config = BrokerConfig()
    var decoding = ConfigDecoding()
    do throws(ConfigError) {
        try schema.decode(root, into: &config, location: "", decoding: &decoding)
    } catch {
        return covers(error.key, path) ? .read(error) : .other(error)
    }
    let unknown = decoding.unknownKeys.filter { covers($0, path) || covers(path, $0) }
    return unknown.isEmpty ? .silent : .unknown(unknown)
}

/// `a` and `b` merged key by key; one-element lists (as `document(setting:to:)` makes) merge their elements.
private func merged(_ a: JSONValue, _ b: JSONValue) -> JSONValue {
    switch (a, b) {
    case (.object(var left), .object(let right)):
        for member in right.members {
            if let i = left.members.firstIndex(where: { $0.key == member.key }) {
                left.members[i].value = merged(left.members[i].value, member.value)
            } else {
                left.members.append(member)
            }
        }
        return .object(left)
    case (.array(let left), .array(let right)) where left.count == 1 && right.count == 1:
        return .array([merged(left[0], right[0])])
    default:
        return b
    }
}

// MARK: - Loading helpers

private func parse(_ document: JSONValue) throws(ConfigError) -> BrokerConfig {
    try ConfigLoader.parse(json: Array(document.serializedString.utf8), environment: [:])
}

private func parseError(_ document: JSONValue) -> ConfigError? {
    do {
        _ = try parse(document)
        return nil
    } catch {
        return error
    }
}

// MARK: - Tests

@Suite struct CentrifugoKeyCorpusTests {
    @Test func theCorpusIsWellFormed() {
        #expect(centrifugoKeys.count == 1168)
        #expect(Set(centrifugoKeys).count == centrifugoKeys.count, "a key is listed twice")
        #expect(centrifugoKeys == centrifugoKeys.sorted())
        for key in ["client.token.hmac_secret_key", "engine.redis.sentinel_address", "grpc_api.reflection",
                    "websocket.compression_level", "channel.without_namespace.allow_subscribe_for_client",
                    "channel.namespaces", "channel.namespaces[].presence", "proxies[].endpoint", "consumers"] {
            #expect(centrifugoKeys.contains(key), "\(key)")
        }
        // Namespace entries carry every channel option of channel.without_namespace, plus their name.
        let withoutNamespace = Set(centrifugoKeys.compactMap { $0.dropPrefix("channel.without_namespace.") })
        let namespaceEntry = Set(centrifugoKeys.compactMap { $0.dropPrefix("channel.namespaces[].") })
        #expect(namespaceEntry.subtracting(withoutNamespace) == ["name"])
        #expect(withoutNamespace.subtracting(namespaceEntry) == [])
    }

    /// The heart of it: no Centrifugo key falls through.
    @Test func everyCentrifugoKeyIsClassified() {
        let classifier = Classifier()
        let unclassified = Set(centrifugoKeys.filter { classifier.classify($0) == nil })
        let fixed = knownGaps.subtracting(unclassified).sorted()
        let newGaps = unclassified.subtracting(knownGaps).sorted()
        #expect(newGaps.isEmpty, "Centrifugo keys neither honoured, refused nor inert: \(newGaps)")
        #expect(fixed.isEmpty, "classified now, remove from knownGaps: \(fixed)")
        #expect(knownGaps.isSubset(of: Set(centrifugoKeys)), "knownGaps holds keys that are not Centrifugo's")
    }

    /// The decoder agrees with the classification: honoured and refused keys are read, inert ones are silent,
    /// and only the known gaps come out as unknown keys.
    @Test func decodingAgreesWithTheClassification() {
        let classifier = Classifier()
        var disagreements: [String] = []
        for key in centrifugoKeys {
            let outcome = probe(key, in: classifier.schema)
            let expected = classifier.classify(key)
            switch (outcome, expected) {
            case (.read, .honoured?), (.read, .refused?), (.silent, .inert?), (.unknown, nil):
                continue
            default:
                disagreements.append("\(key): classified \(expected?.rawValue ?? "nowhere"), decoding gave \(outcome)")
            }
        }
        #expect(disagreements.isEmpty, "\(disagreements.joined(separator: "\n"))")
    }

    /// Everything the schema and `UnsupportedKeys` name is a Centrifugo key, but for the broker's own extras.
    @Test func everySchemaPathIsACentrifugoKey() {
        let keys = Set(centrifugoKeys)
        func isKeyOrObject(_ path: String) -> Bool {
            keys.contains(path) || keys.contains { $0.hasPrefix(path + ".") }
        }
        let configPaths = BrokerConfigSchema.config.settings.map(\.path)
        let namespacePaths = BrokerConfigSchema.namespace.settings.map { "channel.namespaces[]." + $0.path }
        let inertPaths = UnsupportedKeys.config.inertPaths
            + UnsupportedKeys.channelOptions.inertPaths.map { "channel.namespaces[]." + $0 }
        let strangers = (configPaths + namespacePaths).filter { !keys.contains($0) && !brokerOnlySettings.contains($0) }
            + inertPaths.filter { !isKeyOrObject($0) }
        #expect(strangers.isEmpty, "schema paths that are not Centrifugo v6 keys: \(strangers)")
        // The allow-list stays tight: each entry is a schema setting, and none is a Centrifugo key.
        let settings = Set(configPaths + namespacePaths)
        #expect(brokerOnlySettings.subtracting(settings).sorted() == [], "brokerOnlySettings lists non-settings")
        #expect(brokerOnlySettings.intersection(keys).sorted() == [], "brokerOnlySettings lists Centrifugo keys")
    }

    /// Inert keys deep inside inert sections (`broker.redis.address`, `channel.namespaces[].map.mode`, …) load
    /// without a word, all in one config; `UnsupportedConfigTests` checks the inert paths themselves.
    @Test func everyInertCentrifugoKeyLoadsWithoutUnknownKeys() throws {
        let classifier = Classifier()
        let inert = centrifugoKeys.filter { classifier.classify($0) == .inert }
        #expect(inert.count > 400)
        let all = inert.map { document(setting: $0, to: .string("1")) }.reduce(.object(JSONObject()), merged)
        let config = try parse(all)
        #expect(config.unknownKeys == [])
    }

    /// Keys refused through a refused list (every `consumers[]` key): setting one fails naming the list.
    /// `UnsupportedConfigTests` checks each key that `UnsupportedKeys` refuses by its own path.
    @Test func keysOfRefusedListsAreRefused() {
        let classifier = Classifier()
        let refused = classifier.config.refused
        var checked = 0
        for key in centrifugoKeys where key.contains("[]") {
            let list = String(key[..<key.range(of: "[]")!.lowerBound])
            guard refused.contains(list) else { continue }
            let error = parseError(document(setting: key, to: .string("1")))
            #expect(error?.key == list, "\(key): \(error?.description ?? "loaded")")
            #expect(error?.message.contains("not supported") == true, "\(key): \(error?.message ?? "")")
            checked += 1
        }
        #expect(checked > 100)
    }

    /// Each refused Centrifugo key is one that `UnsupportedKeys` refuses (directly or through its list), so the
    /// refusal tests of `UnsupportedConfigTests` cover it.
    @Test func everyRefusedCentrifugoKeyIsAnUnsupportedKey() {
        let classifier = Classifier()
        let refusedPaths = classifier.config.refused
            .union(classifier.namespace.refused.map { "channel.namespaces[]." + $0 })
        for key in centrifugoKeys where classifier.classify(key) == .refused {
            let list = key.range(of: "[]").map { String(key[..<$0.lowerBound]) }
            #expect(refusedPaths.contains(key) || list.map(refusedPaths.contains) == true, "\(key)")
        }
    }
}

extension String {
    fileprivate func dropPrefix(_ prefix: String) -> String? {
        hasPrefix(prefix) ? String(dropFirst(prefix.count)) : nil
    }
}
