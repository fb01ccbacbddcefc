// PLACEHOLDER until its owner writes it.
import type { ReactNode } from 'react';
export function UserDataProvider(props: { children: ReactNode }) {
  return <>{props.children}</>;
}
