import { setTimeout as sleep } from "node:timers/promises";
import type { Admin } from "kafkajs";
import { kafkajs } from "./kafkajs.ts";
import { isLogError, LogError } from "../errors.ts";
import type { TopicConfig } from "../types.ts";
import { checkTopicName, configConflicts, normaliseTopicConfig } from "../validate.ts";
import { LoadingCache } from "./cache.ts";
import { errorType, translate } from "./failures.ts";
import type { Wire } from "./wire.ts";

/** What carls needs to know about a topic's configuration. */
export interface TopicSettings {
  readonly compacted: boolean;
  readonly retentionMs: number | null;
  readonly deleteRetentionMs: number;
  /** Largest record batch the topic accepts. */
  readonly maxMessageBytes: number;
}

export interface ConfigEntry {
  readonly name: string;
  readonly value: string;
}

// kafkajs is CommonJS; Node does not expose these as named ESM exports.
const { ConfigResourceTypes, ConfigSource } = kafkajs;
const ADMIN_TIMEOUT_MS = 10_000;
const SETTINGS = ["cleanup.policy", "retention.ms", "delete.retention.ms", "max.message.bytes"];
/** Broker answers to a CreateTopics request that mean the caller asked for something impossible. */
const BAD_REQUEST: ReadonlySet<string> = new Set([
  "INVALID_PARTITIONS",
  "INVALID_REPLICATION_FACTOR",
  "INVALID_REPLICA_ASSIGNMENT",
  "INVALID_CONFIG",
  "POLICY_VIOLATION",
]);

/** Topic management over the kafkajs admin client, and a cache of each topic's settings. */
export class TopicAdmin {
  private readonly settingsCache = new LoadingCache((topic) => this.loadSettings(topic));

  constructor(
    private readonly admin: Admin,
    private readonly wire: Wire,
    private readonly replicationFactor: number,
  ) {}

  async create(name: string, config: TopicConfig): Promise<void> {
    checkTopicName(name);
    const wanted = normaliseTopicConfig(name, config);
    let created: boolean;
    try {
      created = await this.admin.createTopics({
        topics: [
          {
            topic: name,
            numPartitions: wanted.partitions,
            replicationFactor: this.replicationFactor,
            configEntries: [
              { name: "cleanup.policy", value: wanted.compacted ? "compact" : "delete" },
              { name: "retention.ms", value: String(wanted.retentionMs ?? -1) },
              { name: "delete.retention.ms", value: String(wanted.deleteRetentionMs) },
            ],
          },
        ],
        // Waited for below: kafkajs's wait fails at once if the broker it asks has not heard of
        // the topic yet (UNKNOWN_TOPIC_OR_PARTITION), which happens right after creation.
        waitForLeaders: false,
        timeout: ADMIN_TIMEOUT_MS,
      });
    } catch (error) {
      if (BAD_REQUEST.has(errorType(error) ?? "")) {
        throw new LogError("InvalidArgument", `Kafka refused to create topic ${name}: ${(error as Error).message}`, { cause: error });
      }
      throw translate(error, name);
    }
    this.forget(name);
    // Made by another client just now, it may not be in this broker's metadata yet: wait for it first.
    await this.waitForLeaders(name);
    if (!created) configConflicts(name, await this.config(name), wanted);
  }

  /** The topic's current configuration, read from the cluster (not from the cache). */
  async config(name: string): Promise<Required<TopicConfig>> {
    checkTopicName(name);
    this.forget(name);
    const [{ partitions }, settings] = await Promise.all([this.wire.topic(name), this.settings(name)]);
    const { compacted, retentionMs, deleteRetentionMs } = settings;
    return { partitions, compacted, retentionMs, deleteRetentionMs };
  }

  async list(): Promise<readonly string[]> {
    const topics = await this.wire.listTopics();
    return topics
      .filter((t) => !t.internal && !t.name.startsWith("__"))
      .map((t) => t.name)
      .sort();
  }

  async delete(name: string): Promise<void> {
    checkTopicName(name);
    this.forget(name);
    // Fails fast with UnknownTopic; kafkajs would retry the deletion of an unknown topic for seconds.
    await this.wire.topic(name);
    try {
      await this.admin.deleteTopics({ topics: [name], timeout: ADMIN_TIMEOUT_MS });
    } catch (error) {
      throw translate(error, name);
    }
    this.forget(name);
    await this.until(`topic ${name} to disappear`, async () => !(await this.wire.listTopics()).some((t) => t.name === name));
  }

  /** Cached settings of a topic (`UnknownTopic` if it does not exist). */
  settings(name: string): Promise<TopicSettings> {
    return this.settingsCache.get(name);
  }

  forgetSettings(name: string): void {
    this.settingsCache.delete(name);
  }

  /** The configuration entries set on the topic itself (not inherited from the broker). */
  async overrides(name: string): Promise<readonly ConfigEntry[]> {
    const entries = await this.describeConfigs(name);
    return entries.filter((e) => e.configSource === ConfigSource.TOPIC_CONFIG).map((e) => ({ name: e.configName, value: e.configValue }));
  }

  /** Replaces all of the topic's own configuration entries (Kafka's non-incremental AlterConfigs). */
  async replaceOverrides(name: string, entries: readonly ConfigEntry[]): Promise<void> {
    try {
      await this.admin.alterConfigs({
        validateOnly: false,
        resources: [{ type: ConfigResourceTypes.TOPIC, name, configEntries: entries.map((e) => ({ ...e })) }],
      });
    } catch (error) {
      throw translate(error, name);
    }
    this.forgetSettings(name);
  }

  private forget(name: string): void {
    this.wire.forget(name);
    this.settingsCache.delete(name);
  }

  private async loadSettings(name: string): Promise<TopicSettings> {
    const values = new Map((await this.describeConfigs(name, SETTINGS)).map((e) => [e.configName, e.configValue]));
    const number = (config: string): number => {
      const value = Number(values.get(config));
      if (!Number.isFinite(value)) throw new Error(`Kafka reported no numeric ${config} for topic ${name}`);
      return value;
    };
    const retentionMs = number("retention.ms");
    return {
      compacted: (values.get("cleanup.policy") ?? "").split(",").includes("compact"),
      retentionMs: retentionMs < 0 ? null : retentionMs,
      deleteRetentionMs: number("delete.retention.ms"),
      maxMessageBytes: number("max.message.bytes"),
    };
  }

  private async describeConfigs(name: string, configNames?: readonly string[]) {
    try {
      const { resources } = await this.admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: ConfigResourceTypes.TOPIC, name, ...(configNames && { configNames: [...configNames] }) }],
      });
      return resources[0]?.configEntries ?? [];
    } catch (error) {
      throw translate(error, name);
    }
  }

  private async waitForLeaders(name: string): Promise<void> {
    await this.until(`leaders of topic ${name}`, async () => {
      this.wire.forget(name);
      try {
        const { partitions, leaders } = await this.wire.topic(name);
        return leaders.length === partitions && leaders.every((leader) => leader >= 0);
      } catch (error) {
        // The broker we asked may not have heard of the new topic yet.
        if (isLogError(error, "UnknownTopic")) return false;
        throw error;
      }
    });
  }

  private async until(what: string, done: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + ADMIN_TIMEOUT_MS;
    while (!(await done())) {
      if (Date.now() > deadline) throw new Error(`timed out after ${ADMIN_TIMEOUT_MS} ms waiting for ${what}`);
      await sleep(100);
    }
  }
}
