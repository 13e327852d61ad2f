// render's pure parts: the template's data model, Prometheus file_sd groups, and --wait.
import { describe, expect, it } from 'vitest';
import { parseWait } from '../../src/commands/render.js';
import { fileSdText, labelName, targetGroups } from '../../src/output/prometheus.js';
import type { InstanceRecord } from '../../src/registry/entry.js';
import { renderModel } from '../../src/registry/render-model.js';
import { UsageError } from '../../src/registry/errors.js';

const record = (service: string, id: string, extra: Partial<InstanceRecord> = {}): InstanceRecord => ({
  service_id: id,
  service_name: service,
  address: '10.0.0.1',
  port: 80,
  tags: [],
  metadata: {},
  registered_at: 1,
  key: `/services/${service}/${id}`,
  lease: '1f',
  create_revision: 2,
  mod_revision: 2,
  ...extra,
});
const critical = { health: { status: 'critical', output: 'x', checked_at: 1 } };

describe('renderModel', () => {
  it('sorts services by name and instances by id, whatever order the listing had', () => {
    const model = renderModel('/services/', { revision: 9, malformed: [], instances: [record('web', 'b'), record('api', 'z'), record('web', 'a')] });
    expect(model.services.map((s) => [s.name, s.all.map((i) => i.id)])).toEqual([
      ['api', ['z']],
      ['web', ['a', 'b']],
    ]);
    expect(model).toMatchObject({ prefix: '/services/', revision: 9 });
  });

  it('puts only passing instances under instances, and every instance under all', () => {
    const model = renderModel('/services/', { revision: 1, malformed: [], instances: [record('web', 'a', critical), record('web', 'b')] });
    expect(model.service.web.instances.map((i) => i.id)).toEqual(['b']);
    expect(model.service.web.all.map((i) => [i.id, (i.health as { status?: string } | undefined)?.status])).toEqual([
      ['a', 'critical'],
      ['b', undefined],
    ]);
  });

  it('gives each instance addr as host:port, an IPv6 address in brackets', () => {
    const model = renderModel('/services/', { revision: 1, malformed: [], instances: [record('web', 'a', { address: '::1', port: 8080 }), record('web', 'b', { port: 81 })] });
    expect(model.service.web.all.map((i) => i.addr)).toEqual(['[::1]:8080', '10.0.0.1:81']);
  });

  it('a service named like an object property is just a name in service', () => {
    const model = renderModel('/services/', { revision: 1, malformed: [], instances: [record('__proto__', 'a'), record('constructor', 'b')] });
    expect(Object.keys(model.service)).toEqual(['__proto__', 'constructor']);
    expect(model.service['__proto__'].all[0].id).toBe('a');
  });
});

describe('Prometheus file_sd', () => {
  it('makes any metadata key a valid label name', () => {
    expect(labelName('zone-name')).toBe('zone_name');
    expect(labelName('9lives')).toBe('_9lives');
    expect(labelName('ok_Name1')).toBe('ok_Name1');
  });

  it('one group per passing instance, with service, id, tags (comma-wrapped) and metadata labels', () => {
    const model = renderModel('/services/', {
      revision: 1,
      malformed: [],
      instances: [record('web', 'a', { tags: ['v1', 'x'], metadata: { zone: 'a', n: 2 } }), record('web', 'c', critical)],
    });
    expect(targetGroups(model)).toEqual([
      {
        targets: ['10.0.0.1:80'],
        labels: {
          service: 'web',
          __meta_svcreg_service: 'web',
          __meta_svcreg_id: 'a',
          __meta_svcreg_address: '10.0.0.1',
          __meta_svcreg_port: '80',
          __meta_svcreg_tags: ',v1,x,',
          __meta_svcreg_metadata_n: '2',
          __meta_svcreg_metadata_zone: 'a',
        },
      },
    ]);
  });

  it('gives the same text for the same registry, whatever order the metadata was written in', () => {
    const one = renderModel('/s/', { revision: 1, malformed: [], instances: [record('web', 'a', { metadata: { a: '1', b: '2' } })] });
    const two = renderModel('/s/', { revision: 2, malformed: [], instances: [record('web', 'a', { metadata: { b: '2', a: '1' } })] });
    expect(fileSdText(one)).toBe(fileSdText(two));
  });

  it('an empty registry is an empty list, not an empty file', () => {
    expect(fileSdText(renderModel('/s/', { revision: 1, malformed: [], instances: [] }))).toBe('[]\n');
  });
});

describe('--wait', () => {
  it('MIN alone caps at 4 x MIN', () => {
    expect(parseWait('2s')).toEqual({ minMs: 2000, maxMs: 8000 });
  });

  it('MIN:MAX', () => {
    expect(parseWait('500ms:3s')).toEqual({ minMs: 500, maxMs: 3000 });
  });

  it('rejects a max below the min, and more than two parts', () => {
    expect(() => parseWait('5s:1s')).toThrow(UsageError);
    expect(() => parseWait('1s:2s:3s')).toThrow(UsageError);
  });
});
