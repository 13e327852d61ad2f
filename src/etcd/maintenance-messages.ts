/**
 * etcd's Maintenance messages (etcdserverpb, rpc.proto) that `status` needs over gRPC:
 * StatusRequest/StatusResponse and AlarmRequest/AlarmResponse.
 */
import { decodeHeader, LENGTH_DELIMITED, Reader, VARINT } from './protobuf.js';
import { alarmName, type MemberStatus, type RaisedAlarm } from './transport.js';

const EMPTY = Buffer.alloc(0);

/** StatusRequest has no fields. */
export function encodeStatusRequest(): Buffer {
  return EMPTY;
}

/**
 * StatusResponse: header = 1, version = 2, dbSize = 3 (int64), leader = 4, raftIndex = 5,
 * raftTerm = 6 (uint64), dbSizeInUse = 9 (int64, etcd 3.4 and later).
 */
export function decodeStatusResponse(buf: Buffer): MemberStatus {
  const res: MemberStatus = { member_id: '0', revision: '0', version: '', db_size: '0', db_size_in_use: '0', leader: '0', raft_index: '0', raft_term: '0' };
  const r = new Reader(buf);
  while (r.more()) {
    const [field, wire] = r.field();
    if (field === 1 && wire === LENGTH_DELIMITED) {
      const header = decodeHeader(r.message());
      res.member_id = header.member_id;
      res.revision = header.revision;
    } else if (field === 2 && wire === LENGTH_DELIMITED) res.version = r.string();
    else if (wire !== VARINT) r.skip(wire);
    else if (field === 3) res.db_size = r.varintString();
    else if (field === 4) res.leader = r.varintString(true);
    else if (field === 5) res.raft_index = r.varintString(true);
    else if (field === 6) res.raft_term = r.varintString(true);
    else if (field === 9) res.db_size_in_use = r.varintString();
    else r.skip(wire);
  }
  return res;
}

/** AlarmRequest: action = 1 (GET is 0), memberID = 2 (0: every member), alarm = 3 (NONE is 0): all defaults, so no bytes. */
export function encodeAlarmGetRequest(): Buffer {
  return EMPTY;
}

/** AlarmResponse: header = 1, alarms = 2 (AlarmMember: memberID = 1, alarm = 2). */
export function decodeAlarmResponse(buf: Buffer): RaisedAlarm[] {
  const alarms: RaisedAlarm[] = [];
  const r = new Reader(buf);
  while (r.more()) {
    const [field, wire] = r.field();
    if (field !== 2 || wire !== LENGTH_DELIMITED) {
      r.skip(wire);
      continue;
    }
    const m = r.message();
    const alarm = { member_id: '0', alarm: alarmName(0) };
    while (m.more()) {
      const [f, w] = m.field();
      if (f === 1 && w === VARINT) alarm.member_id = m.varintString(true);
      else if (f === 2 && w === VARINT) alarm.alarm = alarmName(m.varint());
      else m.skip(w);
    }
    alarms.push(alarm);
  }
  return alarms;
}
