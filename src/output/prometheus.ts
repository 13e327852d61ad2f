/**
 * `render --format prometheus`: Prometheus file_sd JSON, one target group per passing
 * instance. The labels follow consul_sd's: `__meta_svcreg_*` for relabelling (dropped
 * after it, as every `__` label is), plus a plain `service` label so that targets of
 * different services are told apart without any relabelling.
 */
import type { RenderModel } from '../index.js';

export interface TargetGroup {
  targets: string[];
  labels: Record<string, string>;
}

/** A valid Prometheus label name from any text: [a-zA-Z_][a-zA-Z0-9_]*, other characters as `_`. */
export function labelName(text: string): string {
  const name = text.replace(/[^a-zA-Z0-9_]/g, '_');
  return /^[0-9]/.test(name) ? `_${name}` : name;
}

/** A metadata value as label text: strings as they are, anything else as JSON. */
const labelValue = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value) ?? '');

/** The target groups of every passing instance: by service, then id (the model's order). */
export function targetGroups(model: RenderModel): TargetGroup[] {
  return model.services.flatMap((service) =>
    service.instances.map((i) => {
      const labels: Record<string, string> = {
        service: service.name,
        __meta_svcreg_service: service.name,
        __meta_svcreg_id: i.id,
        __meta_svcreg_address: i.address,
        __meta_svcreg_port: String(i.port),
        // As consul_sd writes tags: a comma on each side, so `,v1,` matches a whole tag.
        __meta_svcreg_tags: `,${i.tags.join(',')},`,
      };
      // Sorted, so the text does not depend on the order the value was written in.
      for (const key of Object.keys(i.metadata).sort()) labels[`__meta_svcreg_metadata_${labelName(key)}`] = labelValue(i.metadata[key]);
      return { targets: [i.addr], labels };
    }),
  );
}

/** The file's text. */
export function fileSdText(model: RenderModel): string {
  return `${JSON.stringify(targetGroups(model), null, 2)}\n`;
}
