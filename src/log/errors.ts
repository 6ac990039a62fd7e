/** Every failure of the streaming store is a `LogError` whose `code` says what kind it is. */
export type LogErrorCode =
  | "InvalidTopicName"
  | "InvalidArgument"
  | "UnknownTopic"
  | "TopicConfigConflict"
  | "InvalidOffset"
  | "RecordTooLarge"
  | "BrokerUnreachable"
  | "AuthenticationFailed"
  | "StoreCorrupt"
  | "StoreVersionMismatch"
  | "UnsupportedFormat"
  | "NotAssigned"
  | "Closed";

export class LogError extends Error {
  override readonly name: string = "LogError";
  constructor(
    readonly code: LogErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export const isLogError = (error: unknown, code?: LogErrorCode): error is LogError =>
  error instanceof LogError && (code === undefined || error.code === code);
