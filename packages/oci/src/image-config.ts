/**
 * The `config` object of an OCI image configuration (image-spec config.md): what an image says
 * about running it. Docker's capitalised field names, as they appear in the JSON.
 */
export interface ImageConfig {
  User?: string;
  ExposedPorts?: Record<string, object>;
  Env?: readonly string[] | null;
  Entrypoint?: readonly string[] | null;
  Cmd?: readonly string[] | null;
  Volumes?: Record<string, object>;
  WorkingDir?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
  /** Windows only, deprecated. */
  ArgsEscaped?: boolean;
}
