/** An option shown under a label of its own, or a value shown as it is. */
export type SelectOption = string | { value: string; label: string };

/** A select with its visible label and, with `any`, a first option (value '') that stands for "any". */
export function LabelledSelect(props: { label: string; any?: string; value: string; options: readonly SelectOption[]; onChange: (value: string) => void }) {
  return (
    <label>
      {props.label}{' '}
      <select value={props.value} onChange={(event) => props.onChange(event.currentTarget.value)}>
        {props.any !== undefined && <option value="">{props.any}</option>}
        {props.options.map((option) => {
          const { value, label } = typeof option === 'string' ? { value: option, label: option } : option;
          return (
            <option key={value} value={value}>
              {label}
            </option>
          );
        })}
      </select>
    </label>
  );
}
