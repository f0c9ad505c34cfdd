// Just the part of @breejs/later (later.js) that Cumulus uses; the package ships no types.
declare module '@breejs/later' {
  interface LaterScheduleDef {
    schedules: Record<string, unknown>[];
    exceptions?: Record<string, unknown>[];
  }
  interface CompiledSchedule {
    /** One Date for count 1, an array for more, 0 when there is none. */
    next(count: number, start?: Date, end?: Date): Date | Date[] | 0;
    prev(count: number, start?: Date, end?: Date): Date | Date[] | 0;
  }
  interface Later {
    schedule(def: LaterScheduleDef): CompiledSchedule;
    parse: {
      text(text: string): LaterScheduleDef & { error: number };
      cron(expression: string, hasSeconds?: boolean): LaterScheduleDef;
    };
  }
  const later: Later;
  export default later;
}
