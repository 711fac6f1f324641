// The fixed, read-only part of the fake cloud: server types, locations, data centres and images.
// Values are plausible rather than live (prices and ids drift upstream); the field names follow the
// documented object shapes, because a client parses those and nothing else.

export type Architecture = 'x86' | 'arm';

export interface ServerType {
  readonly id: number;
  readonly name: string;
  readonly description: string;
  readonly cores: number;
  /** GB, as the API reports it. */
  readonly memory: number;
  /** GB of local disk. */
  readonly disk: number;
  readonly deprecated: boolean;
  readonly deprecation: null;
  readonly prices: readonly never[];
  readonly storage_type: 'local' | 'network';
  readonly cpu_type: 'shared' | 'dedicated';
  readonly architecture: Architecture;
}

export interface Location {
  readonly id: number;
  readonly name: string;
  readonly description: string;
  readonly country: string;
  readonly city: string;
  readonly latitude: number;
  readonly longitude: number;
  readonly network_zone: string;
}

export interface Datacenter {
  readonly id: number;
  readonly name: string;
  readonly description: string;
  readonly location: Location;
  readonly server_types: { readonly supported: number[]; readonly available: number[]; readonly available_for_migration: number[] };
}

export interface Image {
  readonly id: number;
  readonly type: 'system';
  readonly status: 'available';
  readonly name: string;
  readonly description: string;
  readonly image_size: null;
  readonly disk_size: number;
  readonly created: string;
  readonly created_from: null;
  readonly bound_to: null;
  readonly os_flavor: string;
  readonly os_version: string;
  readonly rapid_deploy: boolean;
  readonly protection: { readonly delete: boolean };
  readonly deprecated: null;
  readonly deleted: null;
  readonly labels: Record<string, string>;
  readonly architecture: Architecture;
}

function serverType(id: number, name: string, cores: number, memory: number, disk: number, architecture: Architecture): ServerType {
  return {
    id,
    name,
    description: name.toUpperCase(),
    cores,
    memory,
    disk,
    deprecated: false,
    deprecation: null,
    prices: [],
    storage_type: 'local',
    cpu_type: 'shared',
    architecture,
  };
}

export const serverTypes: readonly ServerType[] = [
  serverType(104, 'cx22', 2, 4, 40, 'x86'),
  serverType(9, 'cpx21', 3, 4, 80, 'x86'),
  serverType(45, 'cax11', 2, 4, 40, 'arm'),
];

export const locations: readonly Location[] = [
  { id: 1, name: 'fsn1', description: 'Falkenstein DC Park 1', country: 'DE', city: 'Falkenstein', latitude: 50.47612, longitude: 12.370071, network_zone: 'eu-central' },
  { id: 2, name: 'nbg1', description: 'Nuremberg DC Park 1', country: 'DE', city: 'Nuremberg', latitude: 49.452102, longitude: 11.076665, network_zone: 'eu-central' },
  { id: 3, name: 'hel1', description: 'Helsinki DC Park 1', country: 'FI', city: 'Helsinki', latitude: 60.169855, longitude: 24.938379, network_zone: 'eu-central' },
];

const allTypeIds = serverTypes.map((type) => type.id);

/** One data centre per location: a server's `datacenter.location` is how clients learn where it runs. */
export const datacenters: readonly Datacenter[] = locations.map((location, index) => ({
  id: location.id,
  name: `${location.name}-dc${[14, 3, 2][index] ?? 1}`,
  description: `${location.city} virtual DC`,
  location,
  server_types: { supported: [...allTypeIds], available: [...allTypeIds], available_for_migration: [...allTypeIds] },
}));

function image(id: number, name: string, description: string, flavor: string, version: string, architecture: Architecture): Image {
  return {
    id,
    type: 'system',
    status: 'available',
    name,
    description,
    image_size: null,
    disk_size: 5,
    created: '2024-01-01T00:00:00+00:00',
    created_from: null,
    bound_to: null,
    os_flavor: flavor,
    os_version: version,
    rapid_deploy: true,
    protection: { delete: false },
    deprecated: null,
    deleted: null,
    labels: {},
    architecture,
  };
}

// The real catalogue has one image per name and architecture, so a name alone is ambiguous until
// the server type picks the architecture; the fake keeps that property.
export const images: readonly Image[] = [
  image(67794396, 'ubuntu-22.04', 'Ubuntu 22.04', 'ubuntu', '22.04', 'x86'),
  image(103908130, 'ubuntu-22.04', 'Ubuntu 22.04', 'ubuntu', '22.04', 'arm'),
  image(161547269, 'ubuntu-24.04', 'Ubuntu 24.04', 'ubuntu', '24.04', 'x86'),
  image(161547270, 'ubuntu-24.04', 'Ubuntu 24.04', 'ubuntu', '24.04', 'arm'),
  image(114690387, 'debian-12', 'Debian 12', 'debian', '12', 'x86'),
  image(114690389, 'debian-12', 'Debian 12', 'debian', '12', 'arm'),
];

/** Looks a catalogue entry up by name or numeric id, the two forms the API accepts in request bodies. */
export function byNameOrId<T extends { readonly id: number; readonly name: string }>(
  items: readonly T[],
  key: unknown,
): T[] {
  if (typeof key === 'number') return items.filter((item) => item.id === key);
  if (typeof key === 'string' && key !== '') {
    return items.filter((item) => item.name === key || String(item.id) === key);
  }
  return [];
}
